import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { AUTH_MODES, isAuthMode, type AuthMode } from "./auth/auth-mode";
import { DEFAULT_LOGIN_CACHE_LIMITS, type LoginCacheLimits } from "./auth/login-cache";
import { DEFAULT_LOGIN_MEMO_MS, DEFAULT_LOGIN_THROTTLE_LIMITS, type LoginThrottleLimits } from "./auth/login-throttle";
import { DEFAULT_TOKEN_TTL_SECONDS } from "./auth/token-service";
import { DEFAULT_ANONYMOUS_LIMITS, type AnonymousLimits } from "./ops/anonymous-limits";
import { CertificatePairError, readCertificatePairSync, type CertificateFiles } from "./tls/certificate-pair";
import { parseVulnDbConfig, type VulnDbConfig } from "./scanning/vulndb/config";
import { parseLdapConfig, type LdapConfig } from "./identity/ldap/config";
import { loadOidcConfig, type OidcConfig } from "./identity/oidc/config";
import { isRefusal, parseSettingText, SETTING_KEYS, type SettingValues } from "./settings/definitions";

/** Everything Berth reads from its environment, validated once at start. */
export interface Config {
  /** BERTH_AUTH_MODE: where users other than the built-in admin sign in (db, the default; ldap; oidc). */
  authMode: AuthMode;
  /** BERTH_AUTH_MODE_FORCE=true: switch modes even though database users other than admin exist. */
  authModeForce: boolean;
  host: string;
  port: number;
  /** Where `GET /metrics` is served (BERTH_METRICS_ADDR); unset when `off`. Never on the registry's own port. */
  metricsAddress?: { host: string; port: number };
  dataDir: string;
  /** Unset → embedded PGlite under `<dataDir>/pg`. */
  databaseUrl?: string;
  /** PGlite's shared_buffers in MB: its page cache, resident for the process's lifetime. */
  pgliteSharedBuffersMb: number;
  /** V8's old generation grows to (1 + this/100) × its live size before a full collection; 0: V8 decides (ops/heap-growth.ts). */
  heapGrowthPercent: number;
  storage: FsStorageConfig | S3StorageConfig;
  /** Unset → generated on first start and printed once. */
  adminPassword?: string;
  /** Base URL clients reach us at, for Location headers behind a proxy (no trailing slash). */
  publicUrl?: string;
  /** BERTH_OIDC_*: set only when BERTH_AUTH_MODE is oidc (issue 19). */
  oidc?: OidcConfig;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** PEM file with the ES256 key tokens are signed with; unset → generated once and kept in the database. */
  tokenKeyFile?: string;
  /**
   * File with the 32-byte key (base64) that secrets are encrypted with in the database; unset → `<dataDir>/secretkey`,
   * generated on the first start. Every node sharing a database needs the same one.
   */
  secretKeyFile?: string;
  /** Lifetime of issued bearer tokens: how long a revoked member or robot may keep using one. */
  tokenTtlSeconds: number;
  /** Audit records older than this many days are purged; unset keeps them forever. */
  auditRetentionDays?: number;
  /** How long garbage collection leaves unused blobs and manifests alone (pushes in flight). */
  gcGraceSeconds: number;
  /** First retry delay of a failed webhook delivery (doubling up to 5 minutes). */
  webhookRetryBaseMs: number;
  /** How long a proxy cache project serves a cached tag before asking its upstream whether the tag moved. */
  proxyCacheTtlSeconds: number;
  /** Open upload sessions one caller (user, robot) may hold. */
  maxUploadsPerUser: number;
  /** Upload sessions untouched this long are purged (hourly, whatever the GC schedule). */
  uploadPurgeAgeSeconds: number;
  /** An /api or /service request must arrive whole within this many seconds. */
  bodyTimeoutSeconds: number;
  /** A connection with no traffic either way for this many seconds is closed. */
  idleTimeoutSeconds: number;
  /** Distinct blobs and manifests one manifest may refer to (every reference is a row written with the push). */
  maxManifestReferences: number;
  /** What the Helm chart additions read from a chart: each file, and the decompressed chart. */
  chartLimits: { fileMaxBytes: number; maxBytes: number };
  controller: ControllerConfig;
  /** Vulnerability scanning: scans this node runs at once, and how many may wait across all nodes. */
  scan: { workers: number; queueMax: number; exportTtlHours: number; yieldMs: number };
  /** The scanner adapter API (served) and adapter client (registered scanners). */
  scannerAdapter: ScannerAdapterConfig;
  /** When failed logins block further attempts, per (username, client address) and per client address. */
  loginThrottle: LoginThrottleLimits;
  /**
   * How long and how many successful logins are remembered (BERTH_LOGIN_CACHE_SECONDS, _MAX): as long, a directory
   * user removed from a group keeps its role. An OIDC CLI login is never remembered past its refresh check.
   */
  loginCache: LoginCacheLimits;
  /**
   * How long a verified password, robot secret or CLI secret is remembered, as long as the account's stored hash is
   * unchanged, so that logins after the login cache expired skip scrypt (BERTH_LOGIN_MEMO_SECONDS; 0 = always scrypt).
   */
  loginMemoSeconds: number;
  /** What requests without credentials may send and how often, per client address. */
  anonymousLimits: AnonymousLimits;
  /**
   * Addresses and CIDRs of the proxies and load balancers in front of Berth: only their `X-Forwarded-For` is
   * believed (the client is the right-most address outside these ranges). Empty → the socket's peer is the client.
   */
  trustedProxies: string[];
  /** Serve HTTPS with this certificate and key (checked at start, re-read when they change on disk). */
  tls?: TlsConfig;
  /** BERTH_TLS_CA_FILE: the CA certificate clients should trust, served at /systeminfo/getcert (checked at start). */
  tlsCaFile?: string;
  /** Ranges outbound requests (webhooks, registry endpoints) may not reach, besides loopback, link-local, unspecified. */
  outboundDeny: string[];
  /** Ranges exempted from those refusals (receivers on this host); the registry's own listening address never is. */
  outboundAllow: string[];
  /** Targets one webhook policy may have (each event is one delivery per target). */
  webhookMaxTargets: number;
  /** Harbor's project_creation_restriction; unset → adminonly when a policy source manages the registry, else everyone. */
  projectCreationRestriction?: ProjectCreationRestriction;
  /** The vulnerability database: its mirror sync and import limits (BERTH_VULNDB_*). */
  vulnDb: VulnDbConfig;
  /** Run-time settings fixed by their BERTH_<KEY> variable (then not editable through /configurations). */
  fixedSettings: Partial<SettingValues>;
  /** Web UI sessions: unused this long, or this old, a session is over (BERTH_UI_SESSION_*). */
  uiSession: { idleSeconds: number; maxSeconds: number };
  /** The registry mirror (BERTH_MIRROR_*): upstream names served from one proxy-cache project; unset when off. */
  mirror?: MirrorConfig;
  /** The LDAP directory (BERTH_LDAP_*), set only when BERTH_AUTH_MODE=ldap. */
  ldap?: LdapConfig;
}

export interface MirrorConfig {
  /** BERTH_MIRROR_ADDR: a listener of its own (TLS as the main one). */
  address?: { host: string; port: number };
  /** BERTH_MIRROR_HOST: requests with this Host (any listener) are mirror requests. */
  host?: string;
  /** BERTH_MIRROR_PROJECT: the proxy-cache project every mirror name belongs to. */
  project: string;
}

export type ProjectCreationRestriction = "adminonly" | "everyone";

export interface TlsConfig extends CertificateFiles {
  /** How often the two files are checked for a renewed pair. */
  reloadSeconds: number;
}

export interface FsStorageConfig {
  kind: "fs";
}

export interface S3StorageConfig {
  kind: "s3";
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** Bytes per part of an upload's multipart upload (BERTH_S3_PART_SIZE_MIB, 5–5120 MiB, default 8). */
  partSize: number;
  /** Blob GETs answer 307 to a presigned URL valid this long (BERTH_S3_REDIRECT_SECONDS, 0–3600, default 0: off). */
  redirectSeconds: number;
  /** The S3 endpoint as clients reach it, when it is not BERTH_S3_ENDPOINT (BERTH_S3_REDIRECT_ENDPOINT). */
  redirectEndpoint?: string;
}

export interface ControllerConfig {
  repo?: string;
  /** Unset → the repository's default branch. */
  branch?: string;
  schedule: string;
  /** How often the embedded controller checks its repository; unset → 2 s for a path, 30 s for a URL. */
  pollSeconds?: number;
  registryUrl?: string;
  registryUser?: string;
  registryPassword?: string;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`${variable}: ${reason}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function parseAddress(value: string, variable = "BERTH_ADDR", example = "0.0.0.0:5000"): { host: string; port: number } {
  // host:port, [v6]:port, or :port (all interfaces)
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(value);
  if (!match) throw new ConfigError(variable, `"${value}" is not host:port (for example ${example})`);
  const port = Number(match[2]);
  if (port > 65535) throw new ConfigError(variable, `port ${port} is above 65535`);
  const host = match[1] === "" ? "0.0.0.0" : match[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

/** The address `berth serve` listens on (also read by the container healthcheck, which must find that server). */
export function listenAddress(env: Env): { host: string; port: number } {
  return parseAddress(env.BERTH_ADDR || "0.0.0.0:5000");
}

/**
 * BERTH_METRICS_ADDR: loopback by default, so metrics stay on the machine unless the operator opens them (the
 * Kubernetes stack binds all interfaces for Prometheus' pod scraping); `off` serves none.
 */
function parseMetricsAddress(env: Env, main: { host: string; port: number }): Config["metricsAddress"] {
  const value = env.BERTH_METRICS_ADDR || "127.0.0.1:9090";
  if (value === "off") return undefined;
  const address = parseAddress(value, "BERTH_METRICS_ADDR", "127.0.0.1:9090, or off");
  if (address.port !== 0 && address.port === main.port) {
    throw new ConfigError("BERTH_METRICS_ADDR", `port ${address.port} is BERTH_ADDR's; metrics need a port of their own (or off)`);
  }
  return address;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** BERTH_MIRROR_ADDR and/or BERTH_MIRROR_HOST, both mapped to BERTH_MIRROR_PROJECT; off when neither is set. */
function parseMirror(env: Env, taken: { host: string; port: number }[]): MirrorConfig | undefined {
  const addressValue = env.BERTH_MIRROR_ADDR || undefined;
  const host = env.BERTH_MIRROR_HOST?.toLowerCase() || undefined;
  const project = env.BERTH_MIRROR_PROJECT || undefined;
  if (!addressValue && !host) {
    if (project) throw new ConfigError("BERTH_MIRROR_PROJECT", "has no effect without BERTH_MIRROR_ADDR or BERTH_MIRROR_HOST (set one, or unset this)");
    return undefined;
  }
  const which = addressValue ? "BERTH_MIRROR_ADDR" : "BERTH_MIRROR_HOST";
  if (!project) throw new ConfigError("BERTH_MIRROR_PROJECT", `is required when ${which} is set: the proxy-cache project the mirror serves`);
  if (!PROJECT_NAME.test(project)) throw new ConfigError("BERTH_MIRROR_PROJECT", `"${project}" is not a project name`);
  if (host !== undefined && !HOST_NAME.test(host)) throw new ConfigError("BERTH_MIRROR_HOST", `"${host}" is not a host name (for example mirror.example.com, without a port)`);
  const address = addressValue ? parseAddress(addressValue, "BERTH_MIRROR_ADDR", "0.0.0.0:5001") : undefined;
  if (address && address.port !== 0 && taken.some((other) => other.port === address.port)) {
    throw new ConfigError("BERTH_MIRROR_ADDR", `port ${address.port} is already BERTH_ADDR's or BERTH_METRICS_ADDR's; the mirror needs a port of its own`);
  }
  return { address, host, project };
}

function parseUrl(variable: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `"${value}" is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, got ${url.protocol}//`);
  }
  return value.replace(/\/+$/, "");
}

function required(env: Env, variable: string, why: string): string {
  const value = env[variable];
  if (!value) throw new ConfigError(variable, `is required ${why}`);
  return value;
}

function parseStorage(env: Env): Config["storage"] {
  const kind = env.BERTH_STORAGE ?? "fs";
  if (kind === "fs") return { kind };
  if (kind !== "s3") throw new ConfigError("BERTH_STORAGE", `must be "fs" or "s3", got "${kind}"`);
  const why = "when BERTH_STORAGE=s3";
  return {
    kind,
    endpoint: parseUrl("BERTH_S3_ENDPOINT", required(env, "BERTH_S3_ENDPOINT", why), ["http:", "https:"]),
    bucket: required(env, "BERTH_S3_BUCKET", why),
    region: env.BERTH_S3_REGION || "us-east-1",
    accessKey: required(env, "BERTH_S3_ACCESS_KEY", why),
    secretKey: required(env, "BERTH_S3_SECRET_KEY", why),
    // Memory per upload in progress is about twice this plus 5 MiB; S3 wants parts of 5 MiB to 5 GiB.
    partSize: (parseWholeNumber("BERTH_S3_PART_SIZE_MIB", "MiB", env.BERTH_S3_PART_SIZE_MIB, 5, 5120) ?? 8) * 1024 * 1024,
    // Off by default: a presigned URL lets whoever holds it fetch that blob until it expires, and clients must reach
    // the S3 endpoint themselves.
    redirectSeconds: parseWholeNumber("BERTH_S3_REDIRECT_SECONDS", "seconds", env.BERTH_S3_REDIRECT_SECONDS, 0, 3600) ?? 0,
    redirectEndpoint: env.BERTH_S3_REDIRECT_ENDPOINT ? parseUrl("BERTH_S3_REDIRECT_ENDPOINT", env.BERTH_S3_REDIRECT_ENDPOINT, ["http:", "https:"]) : undefined,
  };
}

function parseLogLevel(value: string | undefined): Config["logLevel"] {
  if (value === undefined || value === "") return "info";
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError("BERTH_LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return value as Config["logLevel"];
}

function parseKeyFile(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let pem: string;
  try {
    pem = readFileSync(value, "utf8");
  } catch (error) {
    throw new ConfigError("BERTH_TOKEN_KEY_FILE", `cannot read ${value}: ${(error as Error).message}`);
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new Error("not a P-256 EC key");
  } catch (error) {
    throw new ConfigError("BERTH_TOKEN_KEY_FILE", `${value} is not a PEM P-256 (ES256) private key: ${(error as Error).message}`);
  }
  return value;
}

export interface ScannerAdapterConfig {
  /** BERTH_SCANNER_API_KEY: a key that opens the adapter API (besides system admins); unset: no key works. */
  apiKey?: string;
  /** Adapter API scans this node runs at once; more are refused 503 (BERTH_SCANNER_ADAPTER_WORKERS). */
  workers: number;
  /** How long a scan through an adapter (either side) may take before it counts as failed. */
  timeoutSeconds: number;
  /** The largest report accepted from a registered adapter (BERTH_SCANNER_ADAPTER_REPORT_MAX_MB). */
  reportMaxBytes: number;
}

function parseWholeNumber(name: string, unit: string, value: string | undefined, minimum: number, maximum = 9_999_999): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,7}$/.test(value) || Number(value) < minimum || Number(value) > maximum) {
    const range = maximum === 9_999_999 ? `at least ${minimum}` : `from ${minimum} to ${maximum}`;
    throw new ConfigError(name, `must be a whole number of ${unit}, ${range}, got "${value}"`);
  }
  return Number(value);
}

/** Web UI session lifetimes: 30 minutes unused, 12 hours at most; an idle limit above the maximum is refused. */
function parseUiSession(env: NodeJS.ProcessEnv): { idleSeconds: number; maxSeconds: number } {
  const idleSeconds = parseWholeNumber("BERTH_UI_SESSION_IDLE_SECONDS", "seconds", env.BERTH_UI_SESSION_IDLE_SECONDS, 60) ?? 30 * 60;
  const maxSeconds = parseWholeNumber("BERTH_UI_SESSION_MAX_SECONDS", "seconds", env.BERTH_UI_SESSION_MAX_SECONDS, 60) ?? 12 * 3600;
  if (idleSeconds > maxSeconds) {
    throw new ConfigError("BERTH_UI_SESSION_IDLE_SECONDS", `must not exceed BERTH_UI_SESSION_MAX_SECONDS (${maxSeconds}), got "${idleSeconds}"`);
  }
  return { idleSeconds, maxSeconds };
}

/** One CIDR (`10.0.0.0/16`, `fd00::/8`) or a single address, as the proxy-addr module behind fastify's trustProxy takes them. */
function parseCidr(value: string, variable = "BERTH_TRUSTED_PROXIES"): string {
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (family === 0 || !validPrefix || rest.length > 0) {
    throw new ConfigError(variable, `"${value}" is not an IP address or CIDR (for example 10.0.0.0/16 or 127.0.0.1/32)`);
  }
  return value;
}

/** A comma-separated list of addresses and CIDRs; empty when unset. */
function parseCidrList(variable: string, value: string | undefined): string[] {
  if (!value?.trim()) return [];
  return value.split(",").map((entry) => parseCidr(entry.trim(), variable));
}

function parseProjectCreationRestriction(value: string | undefined): ProjectCreationRestriction | undefined {
  if (value === undefined || value === "") return undefined;
  if (value !== "adminonly" && value !== "everyone") {
    throw new ConfigError("BERTH_PROJECT_CREATION_RESTRICTION", `must be "adminonly" or "everyone", got "${value}"`);
  }
  return value;
}

/** BERTH_<KEY> for each run-time setting (project_creation_restriction has its own field, read above). */
function parseFixedSettings(env: Env): Partial<SettingValues> {
  const fixed: Partial<Record<string, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const variable = `BERTH_${key.toUpperCase()}`;
    const text = env[variable];
    if (key === "project_creation_restriction" || text === undefined || text === "") continue;
    const value = parseSettingText(key, text);
    if (isRefusal(value)) throw new ConfigError(variable, value.error);
    fixed[key] = value;
  }
  return fixed as Partial<SettingValues>;
}

function parseLoginThrottle(env: Env): LoginThrottleLimits {
  const defaults = DEFAULT_LOGIN_THROTTLE_LIMITS;
  const seconds = (name: string, fallbackMs: number) => (parseWholeNumber(name, "seconds", env[name], 1) ?? fallbackMs / 1000) * 1000;
  const limits: LoginThrottleLimits = {
    failuresPerUser: parseWholeNumber("BERTH_LOGIN_FAILURES_PER_USER", "failures", env.BERTH_LOGIN_FAILURES_PER_USER, 1) ?? defaults.failuresPerUser,
    failuresPerAddress:
      parseWholeNumber("BERTH_LOGIN_FAILURES_PER_ADDRESS", "failures", env.BERTH_LOGIN_FAILURES_PER_ADDRESS, 1) ?? defaults.failuresPerAddress,
    windowMs: seconds("BERTH_LOGIN_WINDOW_SECONDS", defaults.windowMs),
    firstBlockMs: seconds("BERTH_LOGIN_BLOCK_SECONDS", defaults.firstBlockMs),
    maxBlockMs: seconds("BERTH_LOGIN_MAX_BLOCK_SECONDS", defaults.maxBlockMs),
  };
  if (limits.maxBlockMs < limits.firstBlockMs) {
    throw new ConfigError("BERTH_LOGIN_MAX_BLOCK_SECONDS", `must be at least BERTH_LOGIN_BLOCK_SECONDS (${limits.firstBlockMs / 1000})`);
  }
  return limits;
}

/** At most an hour: a remembered login outlives a removal from a group, a disabled directory account, a changed password elsewhere. */
function parseLoginCache(env: Env): LoginCacheLimits {
  const ttlSeconds = parseWholeNumber("BERTH_LOGIN_CACHE_SECONDS", "seconds", env.BERTH_LOGIN_CACHE_SECONDS, 0) ?? DEFAULT_LOGIN_CACHE_LIMITS.ttlSeconds;
  if (ttlSeconds > 3600) {
    throw new ConfigError("BERTH_LOGIN_CACHE_SECONDS", `must be at most 3600 seconds (1 hour; 0 turns the cache off), got "${env.BERTH_LOGIN_CACHE_SECONDS}"`);
  }
  const max = parseWholeNumber("BERTH_LOGIN_CACHE_MAX", "logins", env.BERTH_LOGIN_CACHE_MAX, 1) ?? DEFAULT_LOGIN_CACHE_LIMITS.max;
  return { ttlSeconds, max };
}

function parseAnonymousLimits(env: Env, bodyTimeoutSeconds: number): AnonymousLimits {
  const defaults = DEFAULT_ANONYMOUS_LIMITS;
  const limits: AnonymousLimits = {
    bodyLimitBytes: parseWholeNumber("BERTH_ANONYMOUS_BODY_LIMIT_BYTES", "bytes", env.BERTH_ANONYMOUS_BODY_LIMIT_BYTES, 0) ?? defaults.bodyLimitBytes,
    bodyTimeoutSeconds:
      parseWholeNumber("BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS", "seconds", env.BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS, 1) ??
      Math.min(defaults.bodyTimeoutSeconds, bodyTimeoutSeconds),
    ratePerSecond: parseWholeNumber("BERTH_ANONYMOUS_RATE_PER_SECOND", "requests per second", env.BERTH_ANONYMOUS_RATE_PER_SECOND, 0) ?? defaults.ratePerSecond,
    burst: parseWholeNumber("BERTH_ANONYMOUS_RATE_BURST", "requests", env.BERTH_ANONYMOUS_RATE_BURST, 1) ?? defaults.burst,
  };
  if (limits.bodyTimeoutSeconds > bodyTimeoutSeconds) {
    throw new ConfigError("BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS", `must be at most BERTH_BODY_TIMEOUT_SECONDS (${bodyTimeoutSeconds})`);
  }
  return limits;
}

/** Long enough for a client between challenge and request, short enough that revocation takes effect soon. */
function parseTokenTtl(value: string | undefined): number {
  const seconds = parseWholeNumber("BERTH_TOKEN_TTL_SECONDS", "seconds", value, 30) ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (seconds > 3600) throw new ConfigError("BERTH_TOKEN_TTL_SECONDS", `must be at most 3600 seconds (1 hour), got "${value}"`);
  return seconds;
}

function parseTls(env: Env): TlsConfig | undefined {
  const reloadSeconds = parseWholeNumber("BERTH_TLS_RELOAD_SECONDS", "seconds", env.BERTH_TLS_RELOAD_SECONDS, 1) ?? 10;
  const certFile = env.BERTH_TLS_CERT_FILE || undefined;
  const keyFile = env.BERTH_TLS_KEY_FILE || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile) throw new ConfigError("BERTH_TLS_CERT_FILE", "is required when BERTH_TLS_KEY_FILE is set (set both to serve HTTPS, or neither)");
  if (!keyFile) throw new ConfigError("BERTH_TLS_KEY_FILE", "is required when BERTH_TLS_CERT_FILE is set (set both to serve HTTPS, or neither)");
  try {
    readCertificatePairSync({ certFile, keyFile });
  } catch (error) {
    if (!(error instanceof CertificatePairError)) throw error;
    throw new ConfigError(error.file === "key" ? "BERTH_TLS_KEY_FILE" : "BERTH_TLS_CERT_FILE", error.message);
  }
  return { certFile, keyFile, reloadSeconds };
}

function parseCaFile(env: Env, cwd: string): string | undefined {
  return env.BERTH_TLS_CA_FILE ? caFileSetting("BERTH_TLS_CA_FILE", env.BERTH_TLS_CA_FILE, cwd) : undefined;
}

/** The absolute path of a PEM CA certificate file named by `variable`, checked to hold one. */
export function caFileSetting(variable: string, value: string, cwd: string): string {
  const file = path.resolve(cwd, value);
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${file}: ${(error as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ConfigError(variable, `${file} holds no PEM certificate`);
  return file;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `24h`, `7d` → seconds. */
function parseDuration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(value);
  if (!match || Number(match[1]) === 0) throw new ConfigError(name, `must be a duration such as 90m, 24h or 7d, got "${value}"`);
  return Number(match[1]) * DURATION_UNITS[match[2]];
}

function parseAuthMode(env: Env): Pick<Config, "authMode" | "authModeForce"> {
  const mode = env.BERTH_AUTH_MODE || "db";
  if (!isAuthMode(mode)) throw new ConfigError("BERTH_AUTH_MODE", `must be one of ${AUTH_MODES.join(", ")}, got "${mode}"`);
  const force = env.BERTH_AUTH_MODE_FORCE || "false";
  if (force !== "true" && force !== "false") throw new ConfigError("BERTH_AUTH_MODE_FORCE", `must be "true" or "false", got "${force}"`);
  return { authMode: mode, authModeForce: force === "true" };
}

/** Reads and validates the BERTH_* variables. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const { host, port } = listenAddress(env);
  const bodyTimeoutSeconds = parseWholeNumber("BERTH_BODY_TIMEOUT_SECONDS", "seconds", env.BERTH_BODY_TIMEOUT_SECONDS, 1) ?? 30;
  const adminPassword = env.BERTH_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError("BERTH_ADMIN_PASSWORD", "must be at least 8 characters");
  }
  const metricsAddress = parseMetricsAddress(env, { host, port });
  const authMode = parseAuthMode(env);
  return {
    ...authMode,
    host,
    port,
    metricsAddress,
    mirror: parseMirror(env, [{ host, port }, ...(metricsAddress ? [metricsAddress] : [])]),
    dataDir: path.resolve(cwd, env.BERTH_DATA_DIR || "./data"),
    databaseUrl: env.BERTH_DATABASE_URL
      ? parseUrl("BERTH_DATABASE_URL", env.BERTH_DATABASE_URL, ["postgres:", "postgresql:"])
      : undefined,
    pgliteSharedBuffersMb: parseWholeNumber("BERTH_PGLITE_SHARED_BUFFERS_MB", "megabytes", env.BERTH_PGLITE_SHARED_BUFFERS_MB, 1) ?? 16,
    heapGrowthPercent: parseWholeNumber("BERTH_HEAP_GROWTH_PERCENT", "percent", env.BERTH_HEAP_GROWTH_PERCENT, 0, 300) ?? 200,
    storage: parseStorage(env),
    adminPassword,
    publicUrl: env.BERTH_PUBLIC_URL ? parseUrl("BERTH_PUBLIC_URL", env.BERTH_PUBLIC_URL, ["http:", "https:"]) : undefined,
    oidc: loadOidcConfig(authMode.authMode, env, cwd),
    logLevel: parseLogLevel(env.BERTH_LOG_LEVEL),
    auditRetentionDays: parseWholeNumber("BERTH_AUDIT_RETENTION_DAYS", "days", env.BERTH_AUDIT_RETENTION_DAYS, 1),
    gcGraceSeconds: parseWholeNumber("BERTH_GC_GRACE_SECONDS", "seconds", env.BERTH_GC_GRACE_SECONDS, 0) ?? 3600,
    webhookRetryBaseMs: parseWholeNumber("BERTH_WEBHOOK_RETRY_BASE_MS", "milliseconds", env.BERTH_WEBHOOK_RETRY_BASE_MS, 1) ?? 1000,
    proxyCacheTtlSeconds: parseWholeNumber("BERTH_PROXY_CACHE_TTL_SECONDS", "seconds", env.BERTH_PROXY_CACHE_TTL_SECONDS, 0) ?? 60,
    maxUploadsPerUser: parseWholeNumber("BERTH_MAX_UPLOADS_PER_USER", "sessions", env.BERTH_MAX_UPLOADS_PER_USER, 1) ?? 500,
    uploadPurgeAgeSeconds: parseDuration("BERTH_UPLOAD_PURGE_AGE", env.BERTH_UPLOAD_PURGE_AGE, 24 * 3600),
    bodyTimeoutSeconds,
    idleTimeoutSeconds: parseWholeNumber("BERTH_IDLE_TIMEOUT_SECONDS", "seconds", env.BERTH_IDLE_TIMEOUT_SECONDS, 1) ?? 60,
    maxManifestReferences: parseWholeNumber("BERTH_MAX_MANIFEST_REFERENCES", "references", env.BERTH_MAX_MANIFEST_REFERENCES, 1) ?? 5000,
    chartLimits: {
      fileMaxBytes: parseWholeNumber("BERTH_CHART_FILE_MAX_BYTES", "bytes", env.BERTH_CHART_FILE_MAX_BYTES, 1) ?? 1024 * 1024,
      maxBytes: parseWholeNumber("BERTH_CHART_MAX_BYTES", "bytes", env.BERTH_CHART_MAX_BYTES, 1) ?? 64 * 1024 * 1024,
    },
    tokenKeyFile: parseKeyFile(env.BERTH_TOKEN_KEY_FILE),
    secretKeyFile: env.BERTH_SECRET_KEY_FILE ? path.resolve(cwd, env.BERTH_SECRET_KEY_FILE) : undefined,
    tokenTtlSeconds: parseTokenTtl(env.BERTH_TOKEN_TTL_SECONDS),
    tls: parseTls(env),
    tlsCaFile: parseCaFile(env, cwd),
    loginThrottle: parseLoginThrottle(env),
    loginCache: parseLoginCache(env),
    loginMemoSeconds: parseWholeNumber("BERTH_LOGIN_MEMO_SECONDS", "seconds", env.BERTH_LOGIN_MEMO_SECONDS, 0) ?? DEFAULT_LOGIN_MEMO_MS / 1000,
    anonymousLimits: parseAnonymousLimits(env, bodyTimeoutSeconds),
    trustedProxies: parseCidrList("BERTH_TRUSTED_PROXIES", env.BERTH_TRUSTED_PROXIES),
    outboundDeny: parseCidrList("BERTH_OUTBOUND_DENY", env.BERTH_OUTBOUND_DENY),
    outboundAllow: parseCidrList("BERTH_OUTBOUND_ALLOW", env.BERTH_OUTBOUND_ALLOW),
    webhookMaxTargets: parseWholeNumber("BERTH_WEBHOOK_MAX_TARGETS", "targets", env.BERTH_WEBHOOK_MAX_TARGETS, 1) ?? 10,
    projectCreationRestriction: parseProjectCreationRestriction(env.BERTH_PROJECT_CREATION_RESTRICTION),
    vulnDb: parseVulnDbConfig(env),
    fixedSettings: parseFixedSettings(env),
    uiSession: parseUiSession(env),
    ldap: parseLdapConfig(authMode.authMode, env, cwd),
    scan: {
      workers: parseWholeNumber("BERTH_SCAN_WORKERS", "scans", env.BERTH_SCAN_WORKERS, 0) ?? 1,
      queueMax: parseWholeNumber("BERTH_SCAN_QUEUE_MAX", "scans", env.BERTH_SCAN_QUEUE_MAX, 1) ?? 10_000,
      exportTtlHours: parseWholeNumber("BERTH_CVE_EXPORT_TTL_HOURS", "hours", env.BERTH_CVE_EXPORT_TTL_HOURS, 1) ?? 24,
      yieldMs: parseWholeNumber("BERTH_SCAN_YIELD_MS", "milliseconds", env.BERTH_SCAN_YIELD_MS, 0) ?? 1_000,
    },
    scannerAdapter: {
      apiKey: env.BERTH_SCANNER_API_KEY || undefined,
      workers: parseWholeNumber("BERTH_SCANNER_ADAPTER_WORKERS", "scans", env.BERTH_SCANNER_ADAPTER_WORKERS, 1) ?? 2,
      timeoutSeconds: parseWholeNumber("BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS", "seconds", env.BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS, 10) ?? 1800,
      reportMaxBytes: (parseWholeNumber("BERTH_SCANNER_ADAPTER_REPORT_MAX_MB", "megabytes", env.BERTH_SCANNER_ADAPTER_REPORT_MAX_MB, 1) ?? 64) * 1024 * 1024,
    },
    controller: {
      repo: env.BERTH_CONTROLLER_REPO || undefined,
      branch: env.BERTH_CONTROLLER_BRANCH || undefined,
      pollSeconds: parseWholeNumber("BERTH_CONTROLLER_POLL_SECONDS", "seconds", env.BERTH_CONTROLLER_POLL_SECONDS, 1),
      schedule: env.BERTH_CONTROLLER_SCHEDULE || "*/5 * * * *",
      registryUrl: env.BERTH_REGISTRY_URL || undefined,
      registryUser: env.BERTH_REGISTRY_USER || undefined,
      registryPassword: env.BERTH_REGISTRY_PASSWORD || undefined,
    },
  };
}
