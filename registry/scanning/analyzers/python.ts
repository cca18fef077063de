/**
 * Installed Python distributions: `*.dist-info/METADATA` (wheels, modern pip) and `*.egg-info/PKG-INFO` or a bare
 * `*.egg-info` file (setuptools, distro packages) (issue 16). Both are RFC 822 style headers; only `Name:` and
 * `Version:` from the header block are needed, the long description after the first blank line is ignored.
 */
import type { Package } from "../inventory";
import { purl } from "./purl";

/** METADATA carries the whole README as its description, so allow some room (proposed: BERTH_SCAN_PYTHON_METADATA_MAX_BYTES). */
export const PYTHON_METADATA_MAX_BYTES = 4 * 1024 * 1024;

const METADATA_FILE = /(?:^|\/)[^/]+\.(?:dist-info\/METADATA|egg-info\/PKG-INFO|egg-info)$/;

export function interest(path: string, size: number, maxBytes: number = PYTHON_METADATA_MAX_BYTES): boolean {
  return size <= maxBytes && METADATA_FILE.test(path);
}

/** PEP 503 normalisation: the form indexes and advisories (OSV's PyPI names) are compared in. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function headerFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") break; // End of the header block; the description follows.
    if (/^[ \t]/.test(line)) continue; // A continuation line of a folded field such as License or Description.
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins; repeated fields (Classifier, Requires-Dist) are not needed here.
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

export function analyze(path: string, content: Buffer): Package[] {
  const fields = headerFields(content.toString("utf8"));
  const name = fields.get("name") ?? "";
  const version = fields.get("version") ?? "";
  if (name === "" || version === "") return [];
  const normalized = normalizePythonName(name);
  return [
    {
      ecosystem: "PyPI",
      name,
      version,
      // Matching needs the normalised name (Django, django, DJANGO are one project; zope.interface = zope-interface).
      sourceName: normalized,
      sourceVersion: version,
      path,
      purl: purl("pypi", [normalized], version),
    },
  ];
}
