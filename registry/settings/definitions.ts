import type { ProjectCreationRestriction } from "../config";
import { parseForwardEndpoint } from "../audit/syslog-forwarder";
import { MAX_STORAGE_LIMIT, UNLIMITED } from "../quotas/quotas";

/** Harbor's /configurations keys that Berth lets an admin change at run time (or fix with BERTH_<KEY>). */
export const SETTING_KEYS = ["project_creation_restriction", "robot_token_duration", "read_only", "audit_log_forward_endpoint", "storage_per_project"] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export interface SettingValues {
  project_creation_restriction: ProjectCreationRestriction;
  /** Days a robot created without a duration lives (Harbor's default 30). */
  robot_token_duration: number;
  /** Maintenance: every write on /v2 and /api is refused with 503 while reads go on. */
  read_only: boolean;
  /** Where audit records are also sent as syslog lines: `host:port` (TCP), `tcp://host:port` or `udp://host:port`; "" is off. */
  audit_log_forward_endpoint: string;
  /** The storage limit of a project created without one, in bytes; -1 is unlimited. */
  storage_per_project: number;
}

// project_creation_restriction's default depends on whether a policy source manages the registry (ProjectCreationRule).
export const SETTING_DEFAULTS: SettingValues = {
  project_creation_restriction: "everyone",
  robot_token_duration: 30,
  read_only: false,
  audit_log_forward_endpoint: "",
  storage_per_project: UNLIMITED,
};

/** The longest robot lifetime in days (Harbor's bound). */
export const MAX_DURATION_DAYS = 2 ** 31 - 1;

type Parsed<T> = T | { error: string };

export function isRefusal(value: unknown): value is { error: string } {
  return typeof value === "object" && value !== null && "error" in value;
}

const PARSERS: { [K in SettingKey]: (value: unknown) => Parsed<SettingValues[K]> } = {
  project_creation_restriction: (value) =>
    value === "everyone" || value === "adminonly" ? value : { error: `must be "adminonly" or "everyone", got ${JSON.stringify(value)}` },
  robot_token_duration: (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_DURATION_DAYS ? value : { error: `must be a whole number of days from 1 to ${MAX_DURATION_DAYS}` },
  read_only: (value) => (typeof value === "boolean" ? value : { error: "must be true or false" }),
  audit_log_forward_endpoint: (value) => {
    if (value === "") return "";
    if (typeof value !== "string") return { error: 'must be a string: "host:port", "tcp://host:port", "udp://host:port", or "" for off' };
    const endpoint = parseForwardEndpoint(value);
    return isRefusal(endpoint) ? endpoint : value;
  },
  storage_per_project: (value) =>
    value === UNLIMITED || (typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= MAX_STORAGE_LIMIT)
      ? value
      : { error: `must be -1 (unlimited) or a number of bytes from 1 to ${MAX_STORAGE_LIMIT}` },
};

/** The value, checked, or why it is refused. */
export function parseSettingValue<K extends SettingKey>(key: K, value: unknown): Parsed<SettingValues[K]> {
  return PARSERS[key](value) as Parsed<SettingValues[K]>;
}

/** A BERTH_<KEY> variable's text as the key's value (numbers and booleans are written as JSON would). */
export function parseSettingText<K extends SettingKey>(key: K, text: string): Parsed<SettingValues[K]> {
  const typed = SETTING_DEFAULTS[key];
  if (typeof typed === "string") return parseSettingValue(key, text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  return parseSettingValue(key, value);
}
