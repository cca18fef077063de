import path from "node:path";
import { ConfigError, loadConfig } from "../../registry/config";

describe("loadConfig", () => {
  it("defaults to the embedded setup: 0.0.0.0:5000, ./data, PGlite, filesystem blobs", () => {
    const config = loadConfig({}, "/srv/berth");
    expect(config).toMatchObject({ host: "0.0.0.0", port: 5000, dataDir: path.resolve("/srv/berth/data"), storage: { kind: "fs" } });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.adminPassword).toBeUndefined();
    expect(config.tokenTtlSeconds).toBe(300);
    expect(loadConfig({ BERTH_TOKEN_TTL_SECONDS: "3600" }).tokenTtlSeconds).toBe(3600);
  });

  it.each([
    ["127.0.0.1:8080", "127.0.0.1", 8080],
    [":5001", "0.0.0.0", 5001],
    ["[::1]:5002", "::1", 5002],
    ["localhost:0", "localhost", 0],
  ])("parses BERTH_ADDR=%s", (addr, host, port) => {
    expect(loadConfig({ BERTH_ADDR: addr })).toMatchObject({ host, port });
  });

  it.each([
    [{ BERTH_ADDR: "abc" }, "BERTH_ADDR", "host:port"],
    [{ BERTH_ADDR: "1.2.3.4:70000" }, "BERTH_ADDR", "above 65535"],
    [{ BERTH_DATABASE_URL: "mysql://x" }, "BERTH_DATABASE_URL", "postgres"],
    [{ BERTH_DATABASE_URL: "not a url" }, "BERTH_DATABASE_URL", "not a URL"],
    [{ BERTH_STORAGE: "ftp" }, "BERTH_STORAGE", '"fs" or "s3"'],
    [{ BERTH_STORAGE: "s3" }, "BERTH_S3_ENDPOINT", "required"],
    [{ BERTH_STORAGE: "s3", BERTH_S3_ENDPOINT: "http://127.0.0.1:9000" }, "BERTH_S3_BUCKET", "required"],
    [{ BERTH_PUBLIC_URL: "registry.example.com" }, "BERTH_PUBLIC_URL", "not a URL"],
    [{ BERTH_ADMIN_PASSWORD: "short" }, "BERTH_ADMIN_PASSWORD", "at least 8"],
    [{ BERTH_LOG_LEVEL: "loud" }, "BERTH_LOG_LEVEL", "one of"],
    [{ BERTH_TOKEN_KEY_FILE: "/nonexistent/key.pem" }, "BERTH_TOKEN_KEY_FILE", "cannot read"],
    [{ BERTH_TOKEN_KEY_FILE: __filename }, "BERTH_TOKEN_KEY_FILE", "not a PEM P-256"],
    [{ BERTH_AUDIT_RETENTION_DAYS: "0" }, "BERTH_AUDIT_RETENTION_DAYS", "at least 1"],
    [{ BERTH_TRUSTED_PROXIES: "10.0.0.0/33" }, "BERTH_TRUSTED_PROXIES", "not an IP address or CIDR"],
    [{ BERTH_TRUSTED_PROXIES: "10.0.0.0/16, proxy.internal" }, "BERTH_TRUSTED_PROXIES", '"proxy.internal"'],
    [{ BERTH_TRUSTED_PROXIES: "10.0.0.0/16,," }, "BERTH_TRUSTED_PROXIES", "not an IP address or CIDR"],
    [{ BERTH_OUTBOUND_DENY: "10.0.0.0/8, intranet" }, "BERTH_OUTBOUND_DENY", '"intranet"'],
    [{ BERTH_OUTBOUND_ALLOW: "127.0.0.1/40" }, "BERTH_OUTBOUND_ALLOW", "not an IP address or CIDR"],
    [{ BERTH_WEBHOOK_MAX_TARGETS: "0" }, "BERTH_WEBHOOK_MAX_TARGETS", "at least 1"],
    [{ BERTH_CVE_EXPORT_TTL_HOURS: "0" }, "BERTH_CVE_EXPORT_TTL_HOURS", "at least 1"],
    [{ BERTH_PROJECT_CREATION_RESTRICTION: "admins" }, "BERTH_PROJECT_CREATION_RESTRICTION", 'must be "adminonly" or "everyone"'],
    [{ BERTH_LOGIN_FAILURES_PER_USER: "0" }, "BERTH_LOGIN_FAILURES_PER_USER", "at least 1"],
    [{ BERTH_LOGIN_FAILURES_PER_ADDRESS: "many" }, "BERTH_LOGIN_FAILURES_PER_ADDRESS", "whole number"],
    [{ BERTH_LOGIN_WINDOW_SECONDS: "0" }, "BERTH_LOGIN_WINDOW_SECONDS", "at least 1"],
    [{ BERTH_LOGIN_BLOCK_SECONDS: "1.5" }, "BERTH_LOGIN_BLOCK_SECONDS", "whole number"],
    [{ BERTH_LOGIN_MEMO_SECONDS: "-1" }, "BERTH_LOGIN_MEMO_SECONDS", "whole number"],
    [{ BERTH_LOGIN_BLOCK_SECONDS: "600", BERTH_LOGIN_MAX_BLOCK_SECONDS: "300" }, "BERTH_LOGIN_MAX_BLOCK_SECONDS", "at least BERTH_LOGIN_BLOCK_SECONDS"],
    [{ BERTH_TLS_CERT_FILE: "/etc/berth/tls/cert.pem" }, "BERTH_TLS_KEY_FILE", "required when BERTH_TLS_CERT_FILE is set"],
    [{ BERTH_TLS_KEY_FILE: "/etc/berth/tls/key.pem" }, "BERTH_TLS_CERT_FILE", "required when BERTH_TLS_KEY_FILE is set"],
    [{ BERTH_TLS_CERT_FILE: "/nonexistent/cert.pem", BERTH_TLS_KEY_FILE: "/nonexistent/key.pem" }, "BERTH_TLS_CERT_FILE", "cannot read"],
    [{ BERTH_TLS_CERT_FILE: __filename, BERTH_TLS_KEY_FILE: __filename }, "BERTH_TLS_CERT_FILE", "holds no PEM certificate"],
    [{ BERTH_TLS_RELOAD_SECONDS: "0" }, "BERTH_TLS_RELOAD_SECONDS", "at least 1"],
    [{ BERTH_TLS_RELOAD_SECONDS: "soon" }, "BERTH_TLS_RELOAD_SECONDS", "whole number"],
    [{ BERTH_TOKEN_TTL_SECONDS: "29" }, "BERTH_TOKEN_TTL_SECONDS", "at least 30"],
    [{ BERTH_TOKEN_TTL_SECONDS: "3601" }, "BERTH_TOKEN_TTL_SECONDS", "at most 3600"],
    [{ BERTH_TOKEN_TTL_SECONDS: "5m" }, "BERTH_TOKEN_TTL_SECONDS", "whole number"],
    [{ BERTH_UI_SESSION_IDLE_SECONDS: "59" }, "BERTH_UI_SESSION_IDLE_SECONDS", "at least 60"],
    [{ BERTH_UI_SESSION_MAX_SECONDS: "12h" }, "BERTH_UI_SESSION_MAX_SECONDS", "whole number"],
    [{ BERTH_UI_SESSION_IDLE_SECONDS: "7200", BERTH_UI_SESSION_MAX_SECONDS: "3600" }, "BERTH_UI_SESSION_IDLE_SECONDS", "must not exceed BERTH_UI_SESSION_MAX_SECONDS"],
    [{ BERTH_METRICS_ADDR: "9090" }, "BERTH_METRICS_ADDR", "host:port"],
    [{ BERTH_METRICS_ADDR: "127.0.0.1:99999" }, "BERTH_METRICS_ADDR", "above 65535"],
    [{ BERTH_ADDR: "0.0.0.0:9090" }, "BERTH_METRICS_ADDR", "a port of their own"],
    [{ BERTH_ANONYMOUS_BODY_LIMIT_BYTES: "16k" }, "BERTH_ANONYMOUS_BODY_LIMIT_BYTES", "whole number"],
    [{ BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS: "0" }, "BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS", "at least 1"],
    [{ BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS: "60" }, "BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS", "at most BERTH_BODY_TIMEOUT_SECONDS (30)"],
    [{ BERTH_ANONYMOUS_RATE_PER_SECOND: "-1" }, "BERTH_ANONYMOUS_RATE_PER_SECOND", "whole number"],
    [{ BERTH_ANONYMOUS_RATE_BURST: "0" }, "BERTH_ANONYMOUS_RATE_BURST", "at least 1"],
  ])("rejects %j naming %s", (env, variable, reason) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(variable);
    expect((error as ConfigError).message).toContain(reason);
  });

  it("reads the S3 settings with a default region", () => {
    const config = loadConfig({
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: "http://127.0.0.1:9000/",
      BERTH_S3_BUCKET: "blobs",
      BERTH_S3_ACCESS_KEY: "ak",
      BERTH_S3_SECRET_KEY: "sk",
    });
    expect(config.storage).toEqual({
      kind: "s3",
      endpoint: "http://127.0.0.1:9000",
      bucket: "blobs",
      region: "us-east-1",
      accessKey: "ak",
      secretKey: "sk",
      partSize: 8 * 1024 * 1024,
      redirectSeconds: 0,
    });
    expect(loadConfig({ BERTH_STORAGE: "s3", BERTH_S3_ENDPOINT: "http://s3", BERTH_S3_BUCKET: "b", BERTH_S3_ACCESS_KEY: "a", BERTH_S3_SECRET_KEY: "s", BERTH_S3_PART_SIZE_MIB: "16" }).storage).toMatchObject({
      partSize: 16 * 1024 * 1024,
    });
  });

  it.each(["4", "5121", "8.5", "eight"])("refuses BERTH_S3_PART_SIZE_MIB=%s (S3 parts are 5 MiB to 5 GiB)", (value) => {
    const env = { BERTH_STORAGE: "s3", BERTH_S3_ENDPOINT: "http://s3", BERTH_S3_BUCKET: "b", BERTH_S3_ACCESS_KEY: "a", BERTH_S3_SECRET_KEY: "s", BERTH_S3_PART_SIZE_MIB: value };
    expect(() => loadConfig(env)).toThrow(`BERTH_S3_PART_SIZE_MIB: must be a whole number of MiB, from 5 to 5120, got "${value}"`);
  });

  it("redirects blob GETs to S3 only when BERTH_S3_REDIRECT_SECONDS is set, signing for BERTH_S3_REDIRECT_ENDPOINT when given", () => {
    const base = { BERTH_STORAGE: "s3", BERTH_S3_ENDPOINT: "http://minio:9000", BERTH_S3_BUCKET: "b", BERTH_S3_ACCESS_KEY: "a", BERTH_S3_SECRET_KEY: "s" };
    expect(loadConfig(base).storage).toMatchObject({ redirectSeconds: 0, redirectEndpoint: undefined });
    expect(loadConfig({ ...base, BERTH_S3_REDIRECT_SECONDS: "300", BERTH_S3_REDIRECT_ENDPOINT: "https://s3.example.com" }).storage).toMatchObject({
      redirectSeconds: 300,
      redirectEndpoint: "https://s3.example.com",
    });
    for (const value of ["3601", "-1", "5m"]) {
      expect(() => loadConfig({ ...base, BERTH_S3_REDIRECT_SECONDS: value })).toThrow(`BERTH_S3_REDIRECT_SECONDS: must be a whole number of seconds, from 0 to 3600, got "${value}"`);
    }
    expect(() => loadConfig({ ...base, BERTH_S3_REDIRECT_ENDPOINT: "ftp://s3" })).toThrow("BERTH_S3_REDIRECT_ENDPOINT");
  });

  it("grows V8's old generation by 200% by default; BERTH_HEAP_GROWTH_PERCENT=0 leaves it to V8, at most 300", () => {
    expect(loadConfig({}).heapGrowthPercent).toBe(200);
    expect(loadConfig({ BERTH_HEAP_GROWTH_PERCENT: "0" }).heapGrowthPercent).toBe(0);
    expect(loadConfig({ BERTH_HEAP_GROWTH_PERCENT: "300" }).heapGrowthPercent).toBe(300);
    for (const value of ["301", "-1", "1.5", "x"]) {
      expect(() => loadConfig({ BERTH_HEAP_GROWTH_PERCENT: value })).toThrow(`BERTH_HEAP_GROWTH_PERCENT: must be a whole number of percent, from 0 to 300, got "${value}"`);
    }
  });

  it("trusts no proxy and throttles logins with the documented limits by default", () => {
    const config = loadConfig({});
    expect(config.trustedProxies).toEqual([]);
    expect(config.loginThrottle).toEqual({ failuresPerUser: 5, failuresPerAddress: 100, windowMs: 300_000, firstBlockMs: 60_000, maxBlockMs: 900_000 });
  });

  it("reads BERTH_TRUSTED_PROXIES as addresses and CIDRs of both families", () => {
    expect(loadConfig({ BERTH_TRUSTED_PROXIES: " 10.0.0.0/16,127.0.0.1 , fd00::/8" }).trustedProxies).toEqual(["10.0.0.0/16", "127.0.0.1", "fd00::/8"]);
  });

  it("guards outbound requests with no extra ranges, 10 webhook targets, and no fixed project creation rule by default", () => {
    const config = loadConfig({});
    expect([config.outboundDeny, config.outboundAllow, config.webhookMaxTargets, config.projectCreationRestriction]).toEqual([[], [], 10, undefined]);
    const set = loadConfig({
      BERTH_OUTBOUND_DENY: "10.0.0.0/8,fd00::/8",
      BERTH_OUTBOUND_ALLOW: "127.0.0.1",
      BERTH_WEBHOOK_MAX_TARGETS: "3",
      BERTH_PROJECT_CREATION_RESTRICTION: "everyone",
    });
    expect([set.outboundDeny, set.outboundAllow, set.webhookMaxTargets, set.projectCreationRestriction]).toEqual([["10.0.0.0/8", "fd00::/8"], ["127.0.0.1"], 3, "everyone"]);
  });

  it("keeps CVE export files 24 hours unless told otherwise", () => {
    expect(loadConfig({}).scan.exportTtlHours).toBe(24);
    expect(loadConfig({ BERTH_CVE_EXPORT_TTL_HOURS: "2" }).scan.exportTtlHours).toBe(2);
  });

  it("ends web UI sessions after 30 idle minutes or 12 hours unless told otherwise", () => {
    expect(loadConfig({}).uiSession).toEqual({ idleSeconds: 1800, maxSeconds: 43_200 });
    expect(loadConfig({ BERTH_UI_SESSION_IDLE_SECONDS: "600", BERTH_UI_SESSION_MAX_SECONDS: "3600" }).uiSession).toEqual({ idleSeconds: 600, maxSeconds: 3600 });
  });

  it("reads the login limits", () => {
    const env = { BERTH_LOGIN_FAILURES_PER_USER: "3", BERTH_LOGIN_FAILURES_PER_ADDRESS: "50", BERTH_LOGIN_WINDOW_SECONDS: "60", BERTH_LOGIN_BLOCK_SECONDS: "30", BERTH_LOGIN_MAX_BLOCK_SECONDS: "120" };
    expect(loadConfig(env).loginThrottle).toEqual({ failuresPerUser: 3, failuresPerAddress: 50, windowMs: 60_000, firstBlockMs: 30_000, maxBlockMs: 120_000 });
    expect(loadConfig({}).loginMemoSeconds).toBe(900);
    expect(loadConfig({ BERTH_LOGIN_MEMO_SECONDS: "0" }).loginMemoSeconds).toBe(0);
  });

  it("remembers logins 30 s, 1000 at most, unless BERTH_LOGIN_CACHE_SECONDS (0: off, at most an hour) and _MAX say otherwise", () => {
    expect(loadConfig({}).loginCache).toEqual({ ttlSeconds: 30, max: 1000 });
    expect(loadConfig({ BERTH_LOGIN_CACHE_SECONDS: "0", BERTH_LOGIN_CACHE_MAX: "5" }).loginCache).toEqual({ ttlSeconds: 0, max: 5 });
    expect(loadConfig({ BERTH_LOGIN_CACHE_SECONDS: "3600" }).loginCache.ttlSeconds).toBe(3600);
    expect(() => loadConfig({ BERTH_LOGIN_CACHE_SECONDS: "3601" })).toThrow(/^BERTH_LOGIN_CACHE_SECONDS: must be at most 3600 seconds/);
    expect(() => loadConfig({ BERTH_LOGIN_CACHE_SECONDS: "-1" })).toThrow(/^BERTH_LOGIN_CACHE_SECONDS: must be a whole number of seconds/);
    expect(() => loadConfig({ BERTH_LOGIN_CACHE_SECONDS: "30s" })).toThrow(/^BERTH_LOGIN_CACHE_SECONDS/);
    expect(() => loadConfig({ BERTH_LOGIN_CACHE_MAX: "0" })).toThrow(/^BERTH_LOGIN_CACHE_MAX: must be a whole number of logins, at least 1/);
  });

  it("serves metrics on loopback port 9090 by default, elsewhere when told, or not at all", () => {
    expect(loadConfig({}).metricsAddress).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(loadConfig({ BERTH_METRICS_ADDR: ":9100" }).metricsAddress).toEqual({ host: "0.0.0.0", port: 9100 });
    expect(loadConfig({ BERTH_METRICS_ADDR: "127.0.0.1:0", BERTH_ADDR: "127.0.0.1:0" }).metricsAddress).toEqual({ host: "127.0.0.1", port: 0 });
    expect(loadConfig({ BERTH_METRICS_ADDR: "off" }).metricsAddress).toBeUndefined();
  });

  it("limits requests without credentials with the documented defaults, or the variables", () => {
    expect(loadConfig({}).anonymousLimits).toEqual({ bodyLimitBytes: 16_384, bodyTimeoutSeconds: 10, ratePerSecond: 50, burst: 200 });
    // The anonymous deadline never outlasts everyone's.
    expect(loadConfig({ BERTH_BODY_TIMEOUT_SECONDS: "5" }).anonymousLimits.bodyTimeoutSeconds).toBe(5);
    const env = { BERTH_ANONYMOUS_BODY_LIMIT_BYTES: "0", BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS: "3", BERTH_ANONYMOUS_RATE_PER_SECOND: "0", BERTH_ANONYMOUS_RATE_BURST: "5" };
    expect(loadConfig(env).anonymousLimits).toEqual({ bodyLimitBytes: 0, bodyTimeoutSeconds: 3, ratePerSecond: 0, burst: 5 });
  });

  it("lets each step of a scan wait up to a second for requests by default, BERTH_SCAN_YIELD_MS otherwise (0: never)", () => {
    expect(loadConfig({}).scan).toEqual({ workers: 1, queueMax: 10_000, exportTtlHours: 24, yieldMs: 1_000 });
    expect(loadConfig({ BERTH_SCAN_YIELD_MS: "0" }).scan.yieldMs).toBe(0);
    expect(() => loadConfig({ BERTH_SCAN_YIELD_MS: "-1" })).toThrow("BERTH_SCAN_YIELD_MS");
  });

  it("runs in db auth mode unless BERTH_AUTH_MODE says ldap or oidc, and switches only when forced", () => {
    expect(loadConfig({})).toMatchObject({ authMode: "db", authModeForce: false });
    const ldap = { BERTH_LDAP_URL: "ldap://127.0.0.1:389", BERTH_LDAP_BASE_DN: "ou=people,dc=example,dc=org" };
    expect(loadConfig({ BERTH_AUTH_MODE: "ldap", BERTH_AUTH_MODE_FORCE: "true", ...ldap })).toMatchObject({ authMode: "ldap", authModeForce: true });
    expect(loadConfig({ BERTH_AUTH_MODE: "oidc", ...OIDC_SETTINGS })).toMatchObject({ authMode: "oidc" });
    expect(() => loadConfig({ BERTH_AUTH_MODE: "db_auth" })).toThrow(/BERTH_AUTH_MODE: must be one of db, ldap, oidc/);
    expect(() => loadConfig({ BERTH_AUTH_MODE_FORCE: "yes" })).toThrow(/BERTH_AUTH_MODE_FORCE/);
  });

  it("strips a trailing slash from BERTH_PUBLIC_URL", () => {
    expect(loadConfig({ BERTH_PUBLIC_URL: "https://registry.example.com/" }).publicUrl).toBe("https://registry.example.com");
  });
});

/** The least an oidc-mode configuration needs (discovery waits for the first sign-in). */
const OIDC_SETTINGS = { BERTH_OIDC_ISSUER: "https://id.example.com", BERTH_OIDC_CLIENT_ID: "berth" };

describe("upload limits", () => {
  const base = { BERTH_DATA_DIR: "/tmp/berth-config-test" };
  it("reads BERTH_UPLOAD_PURGE_AGE as a duration and BERTH_MAX_UPLOADS_PER_USER as a count", () => {
    expect(loadConfig({ ...base }).uploadPurgeAgeSeconds).toBe(86_400);
    expect(loadConfig({ ...base }).maxUploadsPerUser).toBe(500);
    expect(loadConfig({ ...base, BERTH_UPLOAD_PURGE_AGE: "90m" }).uploadPurgeAgeSeconds).toBe(5400);
    expect(() => loadConfig({ ...base, BERTH_UPLOAD_PURGE_AGE: "1 day" })).toThrow('BERTH_UPLOAD_PURGE_AGE: must be a duration such as 90m, 24h or 7d, got "1 day"');
    expect(() => loadConfig({ ...base, BERTH_MAX_UPLOADS_PER_USER: "0" })).toThrow(/BERTH_MAX_UPLOADS_PER_USER/);
  });
});

describe("scanner adapters", () => {
  it("keep the adapter API closed to keys until BERTH_SCANNER_API_KEY is set, with bounded work and reports", () => {
    expect(loadConfig({}).scannerAdapter).toEqual({ apiKey: undefined, workers: 2, timeoutSeconds: 1800, reportMaxBytes: 64 * 1024 * 1024 });
    expect(
      loadConfig({ BERTH_SCANNER_API_KEY: "k", BERTH_SCANNER_ADAPTER_WORKERS: "4", BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS: "60", BERTH_SCANNER_ADAPTER_REPORT_MAX_MB: "8" })
        .scannerAdapter,
    ).toEqual({ apiKey: "k", workers: 4, timeoutSeconds: 60, reportMaxBytes: 8 * 1024 * 1024 });
    expect(() => loadConfig({ BERTH_SCANNER_ADAPTER_WORKERS: "0" })).toThrow(/BERTH_SCANNER_ADAPTER_WORKERS/);
    expect(() => loadConfig({ BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS: "5" })).toThrow(/BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS/);
  });
});

describe("the registry mirror", () => {
  it("is off by default, and maps BERTH_MIRROR_ADDR and/or BERTH_MIRROR_HOST to BERTH_MIRROR_PROJECT", () => {
    expect(loadConfig({}).mirror).toBeUndefined();
    expect(loadConfig({ BERTH_MIRROR_ADDR: ":5001", BERTH_MIRROR_PROJECT: "hub" }).mirror).toEqual({ address: { host: "0.0.0.0", port: 5001 }, host: undefined, project: "hub" });
    expect(loadConfig({ BERTH_MIRROR_HOST: "Mirror.Example.com", BERTH_MIRROR_PROJECT: "dockerhub" }).mirror).toEqual({ address: undefined, host: "mirror.example.com", project: "dockerhub" });
  });

  it.each([
    [{ BERTH_MIRROR_ADDR: ":5001" }, "BERTH_MIRROR_PROJECT", "required when BERTH_MIRROR_ADDR is set"],
    [{ BERTH_MIRROR_HOST: "mirror.example.com" }, "BERTH_MIRROR_PROJECT", "required when BERTH_MIRROR_HOST is set"],
    [{ BERTH_MIRROR_PROJECT: "hub" }, "BERTH_MIRROR_PROJECT", "no effect without BERTH_MIRROR_ADDR or BERTH_MIRROR_HOST"],
    [{ BERTH_MIRROR_ADDR: ":5001", BERTH_MIRROR_PROJECT: "Hub/x" }, "BERTH_MIRROR_PROJECT", "not a project name"],
    [{ BERTH_MIRROR_HOST: "mirror.example.com:5001", BERTH_MIRROR_PROJECT: "hub" }, "BERTH_MIRROR_HOST", "without a port"],
    [{ BERTH_MIRROR_ADDR: "5001", BERTH_MIRROR_PROJECT: "hub" }, "BERTH_MIRROR_ADDR", "host:port"],
    [{ BERTH_MIRROR_ADDR: ":5000", BERTH_MIRROR_PROJECT: "hub" }, "BERTH_MIRROR_ADDR", "a port of its own"],
  ])("rejects %j naming %s", (env, variable, reason) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: .*${reason}`));
  });
});
