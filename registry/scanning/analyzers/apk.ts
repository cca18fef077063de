/**
 * Alpine packages (issue 16): `lib/apk/db/installed`, paragraphs of one-letter `X:value` lines separated by blank
 * lines (apk-tools' installed database). `P:` name, `V:` version, `A:` arch, `o:` origin — the source package that
 * Alpine's secdb and OSV key advisories by; origin packages share the binary's version.
 */
import type { Package } from "../inventory";
import { PACKAGE_DB_MAX_BYTES } from "./dpkg";
import { osPurl } from "./os-purl";

export const APK_INSTALLED_PATH = "lib/apk/db/installed";

export function interest(path: string, size: number, maxBytes: number = PACKAGE_DB_MAX_BYTES): boolean {
  return size <= maxBytes && path === APK_INSTALLED_PATH;
}

export function analyze(path: string, content: Buffer): Package[] {
  const packages: Package[] = [];
  const seen = new Set<string>();
  let fields = new Map<string, string>();
  const flush = (): void => {
    const name = fields.get("P");
    const version = fields.get("V");
    // apk lists a package once; a repeated name would be a damaged database, and the first entry is kept.
    if (name && version && !seen.has(name)) {
      seen.add(name);
      const arch = fields.get("A") || undefined;
      packages.push({
        ecosystem: "Alpine",
        name,
        version,
        sourceName: fields.get("o") || name,
        sourceVersion: version,
        ...(arch ? { arch } : {}),
        path,
        purl: osPurl("apk", "alpine", name, version, { arch }),
      });
    }
    fields = new Map();
  };
  for (const line of content.toString("utf8").split(/\r?\n/)) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    // Only the first occurrence of a key: F:/R: (files) repeat many times and are not needed.
    if (line.length >= 2 && line[1] === ":" && !fields.has(line[0]!)) fields.set(line[0]!, line.slice(2).trim());
  }
  flush();
  return packages;
}
