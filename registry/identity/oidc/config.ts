import { readFileSync } from "node:fs";
import path from "node:path";
import type { AuthMode } from "../../auth/auth-mode";
import { ConfigError } from "../../config";

type Env = Record<string, string | undefined>;

/** What Berth needs to send users to an OpenID Connect provider and onboard them when they come back. */
export interface OidcConfig {
  /** BERTH_OIDC_ISSUER: the provider's issuer URL; discovery reads <issuer>/.well-known/openid-configuration. */
  issuer: string;
  /** BERTH_OIDC_CLIENT_ID */
  clientId: string;
  /** Read from BERTH_OIDC_CLIENT_SECRET_FILE; absent = a public client (PKCE alone). Never logged. */
  clientSecret?: string;
  /** BERTH_OIDC_SCOPES (space or comma separated); "openid" is always requested. */
  scopes: string[];
  /** BERTH_OIDC_USERNAME_CLAIM: the ID token claim that becomes the Berth username. */
  usernameClaim: string;
  /** BERTH_OIDC_GROUPS_CLAIM: the claim listing the user's groups (an array of names). */
  groupsClaim: string;
  /** BERTH_OIDC_ADMIN_GROUP: members of this group are system administrators; unset = nobody is by group. */
  adminGroup?: string;
  /**
   * BERTH_OIDC_REFRESH_CHECK_SECONDS: how long a successful refresh at the provider vouches for the user's CLI secret
   * before the next login refreshes again (a user disabled at the provider keeps access at most this long).
   */
  refreshCheckSeconds: number;
}

/**
 * The OIDC settings, or undefined unless `mode` (BERTH_AUTH_MODE, validated by registry/config.ts) is "oidc": with any
 * other mode (db, the default) no BERTH_OIDC_* variable is read, so a stray one changes nothing.
 */
export function loadOidcConfig(mode: AuthMode, env: Env = process.env, cwd: string = process.cwd()): OidcConfig | undefined {
  if (mode !== "oidc") return undefined;
  return parseOidcConfig(env, cwd);
}

const DEFAULT_REFRESH_CHECK_SECONDS = 60;

function parseRefreshCheckSeconds(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_REFRESH_CHECK_SECONDS;
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) {
    throw new ConfigError("BERTH_OIDC_REFRESH_CHECK_SECONDS", `must be a whole number of seconds from 1 to 999999, got "${value}"`);
  }
  return Number(value);
}

function parseOidcConfig(env: Env, cwd: string): OidcConfig {
  const issuer = env.BERTH_OIDC_ISSUER;
  if (!issuer) throw new ConfigError("BERTH_OIDC_ISSUER", "is required when BERTH_AUTH_MODE is oidc");
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError("BERTH_OIDC_ISSUER", `"${issuer}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("BERTH_OIDC_ISSUER", "must start with https:// (or http://)");
  const clientId = env.BERTH_OIDC_CLIENT_ID;
  if (!clientId) throw new ConfigError("BERTH_OIDC_CLIENT_ID", "is required when BERTH_AUTH_MODE is oidc");
  const scopes = (env.BERTH_OIDC_SCOPES ?? "openid profile email offline_access").split(/[\s,]+/).filter((scope) => scope !== "");
  return {
    issuer,
    clientId,
    clientSecret: readSecretFile(env.BERTH_OIDC_CLIENT_SECRET_FILE, cwd),
    scopes: scopes.includes("openid") ? scopes : ["openid", ...scopes],
    usernameClaim: env.BERTH_OIDC_USERNAME_CLAIM || "preferred_username",
    groupsClaim: env.BERTH_OIDC_GROUPS_CLAIM || "groups",
    adminGroup: env.BERTH_OIDC_ADMIN_GROUP || undefined,
    refreshCheckSeconds: parseRefreshCheckSeconds(env.BERTH_OIDC_REFRESH_CHECK_SECONDS),
  };
}

function readSecretFile(value: string | undefined, cwd: string): string | undefined {
  if (!value) return undefined;
  const file = path.resolve(cwd, value);
  let secret: string;
  try {
    secret = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new ConfigError("BERTH_OIDC_CLIENT_SECRET_FILE", `cannot read ${file}: ${(error as Error).message}`);
  }
  if (secret === "") throw new ConfigError("BERTH_OIDC_CLIENT_SECRET_FILE", `${file} is empty`);
  return secret;
}
