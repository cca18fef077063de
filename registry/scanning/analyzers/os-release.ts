/**
 * The image's distribution (issue 16): os-release (`etc/os-release`, `usr/lib/os-release`) names it; the older
 * `etc/debian_version` and `etc/alpine-release` give the point release (`12.5`, `3.19.1`) and stand in when there is
 * no os-release at all. Each file is analysed on its own (layers are cached one by one); squashing picks and merges
 * them (registry/scanning/layers/squash.ts).
 */
import type { Distribution } from "../inventory";

/** These files are a few hundred bytes; a bigger one is not what it claims to be. */
export const OS_RELEASE_MAX_BYTES = 64 * 1024;

export const OS_RELEASE_PATHS = ["etc/os-release", "usr/lib/os-release"] as const;
export const DEBIAN_VERSION_PATH = "etc/debian_version";
export const ALPINE_RELEASE_PATH = "etc/alpine-release";

const DISTRIBUTION_FILES: ReadonlySet<string> = new Set([...OS_RELEASE_PATHS, DEBIAN_VERSION_PATH, ALPINE_RELEASE_PATH]);

export function interest(path: string, size: number, maxBytes: number = OS_RELEASE_MAX_BYTES): boolean {
  return size <= maxBytes && DISTRIBUTION_FILES.has(path);
}

/** os-release is shell-compatible `KEY=value` lines; values may be single- or double-quoted (os-release(5)). */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, "$1");
    }
    fields.set(match[1]!, value);
  }
  return fields;
}

function firstLine(content: Buffer): string {
  return content.toString("utf8").split(/\r?\n/)[0]!.trim();
}

/** The distribution one file describes, or null when the file says nothing usable. */
export function distributionOf(path: string, content: Buffer): Distribution | null {
  if (path === DEBIAN_VERSION_PATH) {
    const version = firstLine(content);
    // Testing and unstable say `trixie/sid`, and Ubuntu ships its Debian base's `bookworm/sid`: not a release number.
    return version === "" ? null : { id: "debian", versionId: /^[0-9]/.test(version) ? version : "", prettyName: "" };
  }
  if (path === ALPINE_RELEASE_PATH) {
    const version = firstLine(content);
    return version === "" ? null : { id: "alpine", versionId: version, prettyName: "" };
  }
  const fields = parseOsRelease(content.toString("utf8"));
  const id = (fields.get("ID") ?? "").toLowerCase();
  if (id === "") return null;
  return { id, versionId: fields.get("VERSION_ID") ?? "", prettyName: fields.get("PRETTY_NAME") ?? fields.get("NAME") ?? "" };
}

export function analyze(path: string, content: Buffer): { packages: []; distribution?: Distribution } {
  const distribution = distributionOf(path, content);
  return distribution ? { packages: [], distribution } : { packages: [] };
}

/**
 * The distribution of an image from its distribution files (keyed by path): os-release decides (etc/ before
 * usr/lib/), and the release file of the same family adds the point release os-release leaves out (Debian's
 * VERSION_ID is `12`, debian_version `12.5`); without os-release, the release files alone.
 */
export function mergeDistribution(found: Partial<Record<string, Distribution>>): Distribution | null {
  const osRelease = found[OS_RELEASE_PATHS[0]] ?? found[OS_RELEASE_PATHS[1]] ?? null;
  const releaseFile = found[ALPINE_RELEASE_PATH] ?? found[DEBIAN_VERSION_PATH] ?? null;
  if (!osRelease) return releaseFile;
  if (!releaseFile || releaseFile.id !== osRelease.id || releaseFile.versionId === "") return osRelease;
  const sameRelease = osRelease.versionId === "" || releaseFile.versionId.startsWith(`${osRelease.versionId}.`) || releaseFile.versionId === osRelease.versionId;
  return sameRelease ? { ...osRelease, versionId: releaseFile.versionId } : osRelease;
}

function versionParts(versionId: string): string[] {
  return versionId.split(".").filter((part) => /^[0-9]+$/.test(part));
}

/** Ubuntu's LTS releases are the April releases of even years (6.06 and 8.04 onwards); PRETTY_NAME says so too. */
function isUbuntuLts(distribution: Distribution): boolean {
  if (/\bLTS\b/.test(distribution.prettyName)) return true;
  const [year, month] = versionParts(distribution.versionId).map(Number);
  return year !== undefined && month === 4 && year % 2 === 0;
}

/**
 * OSV's ecosystem for the image's OS packages (ossf/osv-schema ecosystems): `Debian:12`, `Alpine:v3.20`,
 * `Ubuntu:22.04:LTS` / `Ubuntu:23.10`, `Rocky Linux:9`, `AlmaLinux:9`; null when OSV has no such ecosystem or the
 * release is unknown.
 */
export function osvEcosystemOf(distribution: Distribution | null): string | null {
  if (!distribution) return null;
  const parts = versionParts(distribution.versionId);
  const major = parts[0];
  switch (distribution.id) {
    case "debian":
      if (major !== undefined) return `Debian:${major}`;
      // Testing and unstable have no VERSION_ID; OSV files unstable's records under `Debian:sid`.
      return /\bsid\b/.test(distribution.prettyName) ? "Debian:sid" : null;
    case "alpine":
      return parts.length >= 2 ? `Alpine:v${parts[0]}.${parts[1]}` : null;
    case "ubuntu":
      if (parts.length < 2) return null;
      return `Ubuntu:${parts[0]}.${parts[1]!.padStart(2, "0")}${isUbuntuLts(distribution) ? ":LTS" : ""}`;
    case "rocky":
      return major !== undefined ? `Rocky Linux:${major}` : null;
    case "almalinux":
      return major !== undefined ? `AlmaLinux:${major}` : null;
    default:
      // RHEL: OSV files Red Hat's records per product repository CPE (`Red Hat:enterprise_linux:9::appstream`,
      // `…::baseos`), and neither os-release nor the rpmdb says which repository a package came from, so there is no
      // single ecosystem to match in. Fedora, CentOS, SUSE, Wolfi, … are not matched either.
      return null;
  }
}
