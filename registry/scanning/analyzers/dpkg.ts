/**
 * Debian packages (issue 16): `var/lib/dpkg/status`, and the one-paragraph-per-file `var/lib/dpkg/status.d/*` that
 * distroless images write instead (their `*.md5sums` neighbours are file lists, not packages). Paragraphs of
 * `Field: value` lines separated by blank lines (deb822). Advisories are about source packages, so each binary
 * package carries its `Source:` name and version, which default to its own.
 *
 * The ecosystem is always "Debian" here: Ubuntu uses the same database, and which distribution the image is only
 * shows once its layers are squashed (registry/scanning/layers/squash.ts relabels them).
 */
import type { Package } from "../inventory";
import { osPurl } from "./os-purl";

/** A full desktop's status file is 5-10 MB (proposed: BERTH_SCAN_PACKAGE_DB_MAX_BYTES, shared with apk and rpm). */
export const PACKAGE_DB_MAX_BYTES = 64 * 1024 * 1024;

const STATUS_FILE = /^var\/lib\/dpkg\/(?:status|status\.d\/[^/]+)$/;

export function interest(path: string, size: number, maxBytes: number = PACKAGE_DB_MAX_BYTES): boolean {
  return size <= maxBytes && STATUS_FILE.test(path) && !path.endsWith(".md5sums");
}

/** deb822 paragraphs as field maps (keys lower-cased; continuation lines appended to their field). */
export function paragraphs(text: string): Array<Map<string, string>> {
  const result: Array<Map<string, string>> = [];
  let current = new Map<string, string>();
  let lastKey: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (current.size > 0) result.push(current);
      current = new Map();
      lastKey = null;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (lastKey !== null) current.set(lastKey, `${current.get(lastKey)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).trim().toLowerCase();
    current.set(lastKey, line.slice(colon + 1).trim());
  }
  if (current.size > 0) result.push(current);
  return result;
}

/**
 * Status is `want flag state` (`install ok installed`, `hold ok installed`, `deinstall ok config-files`): only the
 * state `installed` means the files are on disk. Paragraphs without a Status field (status.d) are installed.
 */
function isInstalled(status: string | undefined): boolean {
  if (status === undefined) return true;
  return status.split(/\s+/)[2] === "installed";
}

/** `Source: glibc` or `Source: bash (5.2.15-2)` (a binNMU's source version differs from the binary's). */
function parseSource(source: string | undefined): { name?: string; version?: string } {
  if (!source) return {};
  const match = /^(\S+)(?:\s+\((\S+)\))?$/.exec(source.trim());
  return match ? { name: match[1], version: match[2] } : {};
}

export function analyze(path: string, content: Buffer): Package[] {
  const packages: Package[] = [];
  for (const fields of paragraphs(content.toString("utf8"))) {
    const name = fields.get("package");
    const version = fields.get("version");
    if (!name || !version || !isInstalled(fields.get("status"))) continue;
    const arch = fields.get("architecture") || undefined;
    const source = parseSource(fields.get("source"));
    packages.push({
      ecosystem: "Debian",
      name,
      version,
      sourceName: source.name ?? name,
      sourceVersion: source.version ?? version,
      ...(arch ? { arch } : {}),
      path,
      purl: osPurl("deb", "debian", name, version, { arch }),
    });
  }
  return packages;
}
