import { validate } from "node-cron";
import { ConfigError } from "../../config";

/** The vulnerability database's BERTH_VULNDB_* settings. */
export interface VulnDbConfig {
  /** A mirror laid out as OSV's bucket (`<url>/<ecosystem>/all.zip`); unset → no sync job. */
  url?: string;
  /** The ecosystems a sync downloads. */
  ecosystems: string[];
  /** When the sync runs (cron, 5 fields, or 6 with seconds first). */
  schedule: string;
  /** The largest all.zip accepted, downloaded or uploaded. */
  maxZipBytes: number;
  /** The largest JSON document read whole: a JSON upload or file, one zip entry. */
  maxJsonBytes: number;
}

export const DEFAULT_VULNDB_ECOSYSTEMS = ["Debian", "Alpine", "Ubuntu", "npm", "PyPI", "Go", "Maven"];
const DEFAULT_SCHEDULE = "0 3 * * *";
const DEFAULT_MAX_ZIP_BYTES = 2 * 1024 ** 3;
const DEFAULT_MAX_JSON_BYTES = 64 * 1024 ** 2;

function parseBytes(variable: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1024) throw new ConfigError(variable, `must be a whole number of bytes, at least 1024, got "${value}"`);
  return Number(value);
}

function parseMirror(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("BERTH_VULNDB_URL", `"${value}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError("BERTH_VULNDB_URL", `must start with http:// or https://, got ${url.protocol}//`);
  return value.replace(/\/+$/, "");
}

export function parseVulnDbConfig(env: Record<string, string | undefined>): VulnDbConfig {
  const ecosystems = env.BERTH_VULNDB_ECOSYSTEMS?.trim()
    ? env.BERTH_VULNDB_ECOSYSTEMS.split(",").map((item) => item.trim()).filter((item) => item !== "")
    : DEFAULT_VULNDB_ECOSYSTEMS;
  for (const ecosystem of ecosystems) {
    // An ecosystem becomes a path segment of the mirror's URL.
    if (!/^[A-Za-z0-9][A-Za-z0-9 .:_-]*$/.test(ecosystem)) throw new ConfigError("BERTH_VULNDB_ECOSYSTEMS", `"${ecosystem}" is not an OSV ecosystem name`);
  }
  const schedule = env.BERTH_VULNDB_SYNC_SCHEDULE?.trim() || DEFAULT_SCHEDULE;
  if (!validate(schedule)) throw new ConfigError("BERTH_VULNDB_SYNC_SCHEDULE", `"${schedule}" is not a cron expression (for example "0 3 * * *", daily at 03:00)`);
  return {
    url: parseMirror(env.BERTH_VULNDB_URL),
    ecosystems,
    schedule,
    maxZipBytes: parseBytes("BERTH_VULNDB_MAX_ZIP_BYTES", env.BERTH_VULNDB_MAX_ZIP_BYTES, DEFAULT_MAX_ZIP_BYTES),
    maxJsonBytes: parseBytes("BERTH_VULNDB_MAX_JSON_BYTES", env.BERTH_VULNDB_MAX_JSON_BYTES, DEFAULT_MAX_JSON_BYTES),
  };
}
