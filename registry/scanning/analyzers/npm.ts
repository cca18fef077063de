/**
 * Installed npm packages: the package.json at the root of each package under node_modules (issue 16). As Trivy does
 * for images, lockfiles are not read: what is installed is what runs. The application's own package.json (outside
 * node_modules) is not a dependency and is skipped, and so are package.json files below a package's root
 * (node_modules/foo/lib/package.json often only says `{"type":"module"}`).
 */
import type { Package } from "../inventory";
import { purl } from "./purl";

/** package.json files are small; anything larger is not a manifest worth buffering (proposed: BERTH_SCAN_NPM_MANIFEST_MAX_BYTES). */
export const NPM_PACKAGE_JSON_MAX_BYTES = 1024 * 1024;

// node_modules/<name>/package.json or node_modules/@scope/<name>/package.json, at any depth (nested node_modules).
const PACKAGE_ROOT_MANIFEST = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/;

export function interest(path: string, size: number, maxBytes: number = NPM_PACKAGE_JSON_MAX_BYTES): boolean {
  return size <= maxBytes && PACKAGE_ROOT_MANIFEST.test(path);
}

export function analyze(path: string, content: Buffer): Package[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(content.toString("utf8"));
  } catch {
    return []; // A broken manifest is not a package npm could load either.
  }
  if (typeof manifest !== "object" || manifest === null) return [];
  const { name, version } = manifest as { name?: unknown; version?: unknown };
  // The manifest's own name, not the directory's: an alias (`"foo": "npm:bar@1"`) installs bar under node_modules/foo,
  // and advisories are about bar.
  if (typeof name !== "string" || typeof version !== "string" || name === "" || version === "") return [];
  return [
    {
      ecosystem: "npm",
      name,
      version,
      sourceName: name,
      sourceVersion: version,
      path,
      purl: purl("npm", name.split("/"), version),
    },
  ];
}
