/**
 * Package URLs of OS packages, written the way Trivy writes them so SBOMs compare:
 * `pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12.5`, `pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=3.20.3`,
 * `pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64&distro=redhat-9.4&epoch=1`. The epoch is a qualifier, not part of the
 * version (purl-spec's deb and rpm types). The distro qualifier needs the image's distribution, which an analyzer
 * reading one package database does not know: analyzers write purls without it and squashing rewrites them.
 */
import { purl } from "./purl";

export type OsPackageType = "deb" | "apk" | "rpm";

/** Splits `1:2.3-4` into epoch `1` and `2.3-4`; no epoch gives "". */
export function splitEpoch(version: string): { epoch: string; rest: string } {
  const match = /^([0-9]+):(.*)$/.exec(version);
  return match ? { epoch: match[1]!, rest: match[2]! } : { epoch: "", rest: version };
}

export function osPurl(type: OsPackageType, namespace: string, name: string, version: string, qualifiers: { arch?: string; distro?: string }): string {
  const { epoch, rest } = splitEpoch(version);
  const pairs: Array<[string, string]> = [];
  if (qualifiers.arch) pairs.push(["arch", qualifiers.arch]);
  if (qualifiers.distro) pairs.push(["distro", qualifiers.distro]);
  if (epoch !== "" && epoch !== "0") pairs.push(["epoch", epoch]);
  // purl-spec: qualifier keys sorted, values percent-encoded.
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join("&");
  const base = purl(type, [namespace, name], rest);
  return query === "" ? base : `${base}?${query}`;
}
