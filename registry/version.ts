import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Berth's version, from the package.json it ships with: found above this module, whether it runs from the source
 * tree (registry/) or the build (dist/registry/, with package.json beside dist/ as the image lays it out).
 */
function readVersion(): string {
  for (let dir = __dirname, i = 0; i < 4; dir = path.dirname(dir), i++) {
    const file = path.join(dir, "package.json");
    if (!existsSync(file)) continue;
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (parsed.name === "berth" && typeof parsed.version === "string") return parsed.version;
  }
  return "unknown";
}

export const BERTH_VERSION = readVersion();
