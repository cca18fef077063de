import { readFileSync } from "node:fs";
import path from "node:path";
import type { AuthMode } from "../../auth/auth-mode";
import { caFileSetting, ConfigError } from "../../config";

type Env = Record<string, string | undefined>;

export type LdapScope = "base" | "one" | "sub";

/** The directory Berth checks usernames against in ldap mode (BERTH_LDAP_*). */
export interface LdapConfig {
  /** ldap:// (always upgraded with StartTLS unless BERTH_LDAP_STARTTLS=false) or ldaps://. */
  url: string;
  startTls: boolean;
  /** PEM of the CA the server's certificate must chain to; unset → the system's CAs. */
  caFile?: string;
  baseDn: string;
  /** The DN users are searched as; unset → anonymous search. */
  searchDn?: string;
  searchPassword?: string;
  /** The attribute holding the username (BERTH_LDAP_UID). */
  uidAttribute: string;
  /** Extra filter every user must match, e.g. `(objectClass=person)`. */
  filter?: string;
  scope: LdapScope;
  /** Where groups are searched (for /ldap/groups/search and when users carry no group attribute). */
  groupBaseDn?: string;
  groupFilter: string;
  /** The user attribute listing the DNs of their groups (memberOf); unset → a group search by member. */
  groupAttribute?: string;
  /** Members of this group are system administrators. */
  groupAdminDn?: string;
  /** Connect and per-operation timeout. */
  timeoutMs: number;
  /** Entries /ldap/users/search and /ldap/groups/search answer with at most (BERTH_LDAP_SEARCH_MAX). */
  searchMax: number;
}

function parseLdapUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("BERTH_LDAP_URL", `is not a URL: "${value}"`);
  }
  if (url.protocol !== "ldap:" && url.protocol !== "ldaps:") {
    throw new ConfigError("BERTH_LDAP_URL", `must be an ldap:// or ldaps:// URL, got "${value}"`);
  }
  if (url.pathname !== "" && url.pathname !== "/") throw new ConfigError("BERTH_LDAP_URL", "takes no path: set BERTH_LDAP_BASE_DN");
  return `${url.protocol}//${url.host}`;
}

function readPasswordFile(variable: string, file: string, cwd: string): string {
  try {
    return readFileSync(path.resolve(cwd, file), "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${file}: ${(error as Error).message}`);
  }
}

function parseFilter(variable: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!value.startsWith("(") || !value.endsWith(")")) throw new ConfigError(variable, `must be an LDAP filter in parentheses, got "${value}"`);
  return value;
}

/**
 * The LDAP settings when `mode` (BERTH_AUTH_MODE, validated by registry/config.ts) is ldap, else undefined (and none
 * of BERTH_LDAP_* is read, so LDAP settings are never required in another mode).
 */
export function parseLdapConfig(mode: AuthMode, env: Env, cwd: string): LdapConfig | undefined {
  if (mode !== "ldap") return undefined;
  if (!env.BERTH_LDAP_URL) throw new ConfigError("BERTH_LDAP_URL", "is required when BERTH_AUTH_MODE=ldap");
  if (!env.BERTH_LDAP_BASE_DN) throw new ConfigError("BERTH_LDAP_BASE_DN", "is required when BERTH_AUTH_MODE=ldap");
  const url = parseLdapUrl(env.BERTH_LDAP_URL);
  const startTlsSetting = env.BERTH_LDAP_STARTTLS ?? "true";
  if (startTlsSetting !== "true" && startTlsSetting !== "false") {
    throw new ConfigError("BERTH_LDAP_STARTTLS", `must be true or false, got "${startTlsSetting}"`);
  }
  if (env.BERTH_LDAP_SEARCH_DN && !env.BERTH_LDAP_SEARCH_PASSWORD_FILE) {
    throw new ConfigError("BERTH_LDAP_SEARCH_PASSWORD_FILE", "is required with BERTH_LDAP_SEARCH_DN");
  }
  const scope = env.BERTH_LDAP_SCOPE || "sub";
  if (scope !== "base" && scope !== "one" && scope !== "sub") {
    throw new ConfigError("BERTH_LDAP_SCOPE", `must be base, one or sub, got "${scope}"`);
  }
  const uidAttribute = env.BERTH_LDAP_UID || "uid";
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(uidAttribute)) throw new ConfigError("BERTH_LDAP_UID", `is not an attribute name: "${uidAttribute}"`);
  const timeout = env.BERTH_LDAP_TIMEOUT_SECONDS ?? "5";
  if (!/^\d{1,3}$/.test(timeout) || Number(timeout) === 0) {
    throw new ConfigError("BERTH_LDAP_TIMEOUT_SECONDS", `must be a whole number of seconds from 1 to 999, got "${timeout}"`);
  }
  const searchMax = env.BERTH_LDAP_SEARCH_MAX ?? "100";
  if (!/^\d{1,5}$/.test(searchMax) || Number(searchMax) === 0) {
    throw new ConfigError("BERTH_LDAP_SEARCH_MAX", `must be a whole number of entries from 1 to 99999, got "${searchMax}"`);
  }
  return {
    url,
    startTls: url.startsWith("ldap:") && startTlsSetting === "true",
    caFile: env.BERTH_LDAP_CA_FILE ? caFileSetting("BERTH_LDAP_CA_FILE", env.BERTH_LDAP_CA_FILE, cwd) : undefined,
    baseDn: env.BERTH_LDAP_BASE_DN,
    searchDn: env.BERTH_LDAP_SEARCH_DN || undefined,
    searchPassword: env.BERTH_LDAP_SEARCH_DN
      ? readPasswordFile("BERTH_LDAP_SEARCH_PASSWORD_FILE", env.BERTH_LDAP_SEARCH_PASSWORD_FILE!, cwd)
      : undefined,
    uidAttribute,
    filter: parseFilter("BERTH_LDAP_FILTER", env.BERTH_LDAP_FILTER),
    scope,
    groupBaseDn: env.BERTH_LDAP_GROUP_BASE_DN || undefined,
    groupFilter: parseFilter("BERTH_LDAP_GROUP_FILTER", env.BERTH_LDAP_GROUP_FILTER) ?? "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
    groupAttribute: env.BERTH_LDAP_GROUP_ATTRIBUTE || undefined,
    groupAdminDn: env.BERTH_LDAP_GROUP_ADMIN_DN || undefined,
    timeoutMs: Number(timeout) * 1000,
    searchMax: Number(searchMax),
  };
}
