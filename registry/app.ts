import { randomUUID, timingSafeEqual } from "node:crypto";
import path from "node:path";
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { registerAuditRoutes } from "./api/audit-logs";
import { registerMemberRoutes } from "./api/members";
import { registerRobotRoutes } from "./api/robots";
import { registerQuotaRoutes } from "./api/quotas";
import { registerImmutableRuleRoutes } from "./api/immutable-rules";
import { registerGcRoutes } from "./api/gc";
import { registerPurgeAuditRoutes } from "./api/purge-audit";
import { registerPurgeAuditJob, seedDefaultPurgeSchedule } from "./audit/purge-job";
import { registerVulnDbRoutes, VULNDB_IMPORT_ROUTE } from "./api/vulndb";
import { registerVulnDbSync } from "./scanning/vulndb/sync";
import { registerRetentionRoutes } from "./api/retentions";
import { registerRegistryRoutes } from "./api/registries";
import { RegistryStore } from "./replication/registries";
import { registerRetentionJob } from "./retention/job";
import { RetentionStore } from "./retention/store";
import { GarbageCollector } from "./gc/garbage-collector";
import { registerGcJob } from "./gc/job";
import { Scheduler } from "./scheduler/scheduler";
import { RobotStore } from "./robots/store";
import { registerUserRoutes } from "./api/users";
import { UserStore } from "./users/store";
import { actorOf, AuditLog } from "./audit/audit-log";
import { limitSlowClients } from "./ops/slow-clients";
import { limitAnonymousClients } from "./ops/anonymous-limits";
import { loggableUrl } from "./ops/loggable-url";
import { answerUnparsableRequest } from "./ops/unparsable-requests";
import { refusedWriteEntry } from "./audit/refused-writes";
import { SyslogForwarder } from "./audit/syslog-forwarder";
import { refuseWritesWhileReadOnly } from "./ops/read-only";
import { Settings } from "./settings/settings";
import { registerProjectRoutes } from "./api/projects";
import { Authorizer } from "./auth/authorizer";
import { HarborError, codeForStatus } from "./api/errors";
import { Authenticator, BadCredentialsError, TooManyAttemptsError } from "./auth/authenticate";
import { LoginThrottle } from "./auth/login-throttle";
import { TOKEN_SERVICE, TokenService, type TokenAccess } from "./auth/token-service";
import type { SigningKey } from "./auth/token-keys";
import { registerTokenRoutes } from "./api/token";
import { ANONYMOUS, principalName, type Principal } from "./auth/principal";
import type { Config } from "./config";
import { isHostAndPort } from "./api/host-header";
import { responseSecurityHeaders, uiSecurityHeaders } from "./api/security-headers";
import { registerLoginRoutes } from "./ui/login-routes";
import { OidcCliSecrets } from "./identity/oidc/cli-secret";
import { OidcOnboarding } from "./identity/oidc/onboarding";
import { registerOidcRoutes } from "./identity/oidc/routes";
import { acceptsSessionCookie, CSRF_HEADER, sessionOf } from "./ui/session-auth";
import { SessionStore } from "./ui/session-store";
import { UiSessions, type ResolvedSession } from "./ui/sessions";
import { defaultUiDir, loadUiBundle } from "./ui/ui-assets";
import { isUiPage, registerUiRoutes } from "./ui/ui-routes";
import { fanOut, type EventPublisher } from "./events/events";
import { registerReplicationRoutes } from "./api/replication";
import { registerControllerStateRoutes } from "./api/controller-state";
import { registerGitOpsRoutes } from "./api/gitops";
import { GitOpsStatus } from "./gitops/status";
import { registerReplicationJob } from "./replication/job";
import { localSide } from "./replication/local-side";
import { ReplicationStore } from "./replication/store";
import { ReplicationTriggers } from "./replication/triggers";
import { ProxyCache } from "./proxy/proxy-cache";
import { registerWebhookRoutes } from "./api/webhooks";
import { registerArtifactRoutes } from "./api/artifacts";
import { registerArtifactAdditionRoutes } from "./api/artifact-additions";
import { registerArtifactCopyRoutes } from "./api/artifact-copy";
import { registerAccessoryRoutes } from "./api/accessories";
import { registerIconRoutes } from "./api/icons";
import { ImageConfigs } from "./artifacts/image-config";
import { registerScanRoutes } from "./api/scans";
import { registerScanAllRoutes } from "./api/scan-all";
import { registerScannerRoutes } from "./api/scanners";
import { AdapterApiError, adapterErrorBody, isAdapterRequest, registerScannerAdapterRoutes } from "./api/scanner-adapter";
import { setUpScannerAdapters } from "./scanning/adapter/setup";
import { registerScanAllJob } from "./scanning/scan-all";
import { registerSecurityHubRoutes } from "./api/security-hub";
import { registerCveExportRoutes } from "./api/cve-export";
import { SecurityHub } from "./scanning/security-hub";
import { registerCveExportJob } from "./scanning/cve-export/export-job";
import { CveExportFiles } from "./scanning/cve-export/export-store";
import { CveAllowlists } from "./scanning/allowlists";
import { AutoScan } from "./scanning/auto-scan";
import { EmbeddedScanner } from "./scanning/embedded-scanner";
import { DEFAULT_SCAN_OPTIONS, EMBEDDED_SCANNER_INFO, SCANNER, ScanService } from "./scanning/scan-service";
import { ScanStore } from "./scanning/scan-store";
import { pushSbomReferrer } from "./scanning/sbom/referrer";
import { loopbackRegistry } from "./replication/loopback";
import { VulnDb } from "./scanning/vulndb/store";
import { ArtifactStore } from "./artifacts/artifact-store";
import { DEFAULT_OUTBOX_OPTIONS, WebhookOutbox } from "./notifications/outbox";
import { OutboundGuard, type Resolver } from "./outbound/address-guard";
import { ownEndpoints } from "./outbound/own-endpoints";
import { ProjectCreationRule } from "./projects/creation-restriction";
import { registerConfigurationRoutes } from "./api/configurations";
import { registerLabelRoutes } from "./api/labels";
import { registerUserGroupRoutes } from "./api/user-groups";
import { UserGroups } from "./groups/user-groups";
import { registerArtifactLabelRoutes } from "./api/artifact-labels";
import { registerSearchRoutes } from "./api/search";
import { registerSystemStatusRoutes } from "./api/system-status";
import { labelToApi, Labels } from "./labels/labels";
import { ProjectOverview } from "./projects/overview";
import { WebhookPolicies } from "./notifications/policies";
import { ProjectQuotas } from "./quotas/quotas";
import { ImmutableRules } from "./policy/immutable-rules";
import { PullStats } from "./artifacts/pull-stats";
import type { Sql } from "./db/sql";
import { SecretKeyMismatchError, type SecretBox } from "./secrets/secret-box";
import type { DistributionContext } from "./distribution/context";
import { OciError, ociCodeForStatus } from "./distribution/errors";
import { DistributionMetadata } from "./distribution/metadata";
import { registerDistributionRoutes } from "./distribution/routes";
import { UploadService } from "./distribution/upload-service";
import { registerOpsRoutes } from "./ops/health";
import { Metrics } from "./ops/metrics";
import { MemberStore } from "./projects/members";
import { ProjectStore } from "./projects/projects";
import { markMirrorRequests, Mirror, limitMirrorRequests } from "./mirror/mirror";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { BlobStore } from "./storage/blob-store";
import { LdapDirectory } from "./identity/ldap/directory";
import { registerLdapRoutes } from "./api/ldap";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
    /** Bounded route name for metrics and logs. */
    routeLabel: string;
    /** The grants of the bearer token the request carried, or null (Basic or anonymous: the matrix decides). */
    tokenAccess: TokenAccess[] | null;
    /** BERTH_PUBLIC_URL, for the token realm. */
    publicBase: string;
    /** The web UI session the request was authenticated with (its cookie), or null. */
    uiSession: ResolvedSession | null;
  }
}

const UPLOAD_PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface AppDependencies {
  config: Pick<
    Config,
    | "publicUrl" | "logLevel" | "auditRetentionDays" | "gcGraceSeconds" | "webhookRetryBaseMs" | "proxyCacheTtlSeconds" | "maxManifestReferences"
    | "bodyTimeoutSeconds" | "idleTimeoutSeconds" | "maxUploadsPerUser" | "uploadPurgeAgeSeconds" | "loginThrottle" | "loginCache" | "trustedProxies"
    | "tokenTtlSeconds" | "anonymousLimits" | "outboundDeny" | "outboundAllow" | "webhookMaxTargets" | "projectCreationRestriction"
    | "vulnDb" | "dataDir" | "scan" | "scannerAdapter" | "uiSession" | "mirror" | "chartLimits" | "storage" | "tlsCaFile" | "fixedSettings"
    | "ldap"
    | "oidc"
  > &
    // Optional so apps built without it (tests) keep db mode.
    Partial<Pick<Config, "authMode" | "loginMemoSeconds">>;
  /** Where the mirror listener (BERTH_MIRROR_ADDR) listens, once it does: this registry's own, for the outbound guard. */
  mirrorAddress?: () => AddressInfo | string | null;
  /** How outbound requests resolve host names (tests answer with chosen addresses); the system resolver by default. */
  resolve?: Resolver;
  /** The embedded GitOps controller runs (BERTH_CONTROLLER_REPO is not "off"): projects come from policy files. */
  embeddedController?: boolean;
  sql: Sql;
  store: BlobStore;
  signingKey: SigningKey;
  /** Encrypts the secrets stored in the database (registry passwords, webhook credentials). */
  secrets: SecretBox;
  metrics?: Metrics;
  /** Where registry events go; webhooks when not given. */
  events?: EventPublisher;
  /**
   * A credential that exists only inside this process (the embedded GitOps controller's way in): requests on /api
   * with `Authorization: Berth-Internal <secret>` act as `principal`.
   */
  internal?: { secret: string; principal: Principal };
  /** Serve HTTPS with this certificate chain and key; `loopbackFetch` reaches this server trusting it. */
  tls?: { cert: Buffer; key: Buffer; loopbackFetch: typeof fetch };
  /** Where the built web UI is; <package root>/dist/ui by default. */
  uiDir?: string;
}

/** How long caching a proxied manifest waits for the client to pull its blobs before fetching them itself. */
const PROXY_PATIENCE_MS = 10_000;

/** How often remote registry endpoints are pinged to keep their status current. */
const REGISTRY_HEALTH_MS = 5 * 60_000;

const REDACTED_PATHS = ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "password", "*.password"];

/** This process's own base URL, from the address it listens on (a wildcard address is reached over loopback). */
export function ownUrl(app: FastifyInstance, scheme: "http" | "https"): string {
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("the registry is not listening on a TCP port");
  const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

/** Whether `authorization` carries this process's internal secret (compared in constant time). */
function isInternal(authorization: string, secret: string): boolean {
  const expected = Buffer.from(`Berth-Internal ${secret}`);
  const given = Buffer.from(authorization);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function isDistribution(request: FastifyRequest): boolean {
  return request.url === "/v2" || request.url.startsWith("/v2/");
}

/**
 * Points a client at the token service (Docker/OCI token auth); Basic credentials are accepted too. Several scopes
 * go space-separated into one `scope`, and a token that fell short is told so (RFC 6750), as distribution answers.
 */
function bearerChallenge(request: FastifyRequest, scope: string | undefined): string {
  const base = request.publicBase || `${request.protocol}://${request.headers.host ?? "localhost"}`;
  const insufficient = scope && request.tokenAccess !== null ? ',error="insufficient_scope"' : "";
  return `Bearer realm="${base}/service/token",service="${TOKEN_SERVICE}"${scope ? `,scope="${scope}"` : ""}${insufficient}`;
}

/** Server faults are logged (with the stack); a client that hung up mid-body is not one, it is worth a line only. */
function logFailure(error: FastifyError | OciError | HarborError, request: FastifyRequest): void {
  const status = error instanceof OciError || error instanceof HarborError ? error.status : (error.statusCode ?? 500);
  const clientGone = request.raw.destroyed && !request.raw.complete;
  // The adapter API's 500 is its answer for a failed scan (logged when the scan failed), not a fault of this request.
  if (status >= 500 && !(error instanceof AdapterApiError)) request.log[clientGone ? "info" : "error"]({ err: error }, clientGone ? "client disconnected mid-request" : "request failed");
}

/** Turns any error into the body its API speaks: OCI's on /v2, Harbor's on /api and elsewhere. */
function sendError(error: FastifyError | OciError | HarborError | SecretKeyMismatchError, request: FastifyRequest, reply: FastifyReply) {
  // The operator's setup, not a bug: say what to fix (the message names BERTH_SECRET_KEY_FILE, never a secret).
  if (error instanceof SecretKeyMismatchError) {
    request.log.error({ reason: error.message }, "a stored secret cannot be decrypted");
    error = isDistribution(request) ? new OciError("UNAVAILABLE", error.message) : new HarborError("UNKNOWN", error.message);
  } else {
    logFailure(error, request);
  }
  const status = error instanceof OciError || error instanceof HarborError ? error.status : (error.statusCode ?? 500);
  const internal = status >= 500 && !(error instanceof OciError || error instanceof HarborError || error instanceof AdapterApiError);
  const message = internal ? "internal server error" : error.message;
  let body: unknown;
  if (isAdapterRequest(request.url)) {
    // The scanner adapter API has its own error shape and media type.
    const adapterError = adapterErrorBody(message);
    reply.code(status).header("Content-Type", adapterError.contentType);
    if (reply.sent || reply.raw.headersSent) return;
    return request.method === "HEAD" ? reply.send() : reply.send(adapterError.body);
  }
  if (isDistribution(request)) {
    const scope = error instanceof OciError ? error.challengeScope : undefined;
    if (status === 401) reply.header("WWW-Authenticate", bearerChallenge(request, scope && request.mirror ? request.mirror.challengeScope(scope) : scope));
    body = error instanceof OciError ? error.toBody() : { errors: [{ code: internal ? "UNKNOWN" : ociCodeForStatus(status), message }] };
  } else {
    body = error instanceof HarborError ? error.toBody() : { errors: [{ code: codeForStatus(status), message }] };
  }
  reply.code(status).header("Content-Type", "application/json; charset=utf-8");
  // A half-sent response (a blob stream that failed) cannot get an error body; the connection just ends.
  if (reply.sent || reply.raw.headersSent) return;
  return request.method === "HEAD" ? reply.send() : reply.send(body);
}

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? new Metrics();
  const mirror = deps.config.mirror ? new Mirror(deps.config.mirror.project, deps.config.mirror.host) : null;
  // With TLS the instance's raw server is an https.Server; the app code only sees the fastify API either way.
  const app = Fastify({
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    logger: { level: deps.config.logLevel, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } },
    // One line per request, written by our onResponse hook (with the user, without headers).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // request.ip (login throttling, audit records) is the client behind our own proxies, never a client's claim.
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
    // Blob uploads can be slow and large: no request timeout for all; limitSlowClients sets the deadlines that apply.
    requestTimeout: 0,
    // Errors fastify raises before routing (a malformed %-escape in the path) get the API's error body too.
    frameworkErrors: (error, request, reply) => void sendError(error, request, reply),
    // So do requests Node's parser refuses before fastify sees them (a raw non-ASCII byte in the path).
    clientErrorHandler: answerUnparsableRequest,
    // Mirror requests name upstream repositories: they become the mirror's proxy project's before routing.
    ...(mirror ? { rewriteUrl: (raw: IncomingMessage) => mirror.rewrite(raw) } : {}),
    // Harbor echoes the caller's X-Request-Id (or a new one) on every response; log lines carry it as reqId.
    genReqId: (raw) => {
      const id = raw.headers["x-request-id"];
      return typeof id === "string" && /^[\x21-\x7e]{1,128}$/.test(id) ? id : randomUUID();
    },
  }) as unknown as FastifyInstance;
  // Null-safe: a request refused before authentication ran has no principal yet, and is not limited as anonymous.
  const isAnonymous = (request: FastifyRequest) => request.principal?.kind === "anonymous";
  limitSlowClients(
    app,
    { ...deps.config, anonymousBodyTimeoutSeconds: deps.config.anonymousLimits.bodyTimeoutSeconds, uploadRoutes: new Set([VULNDB_IMPORT_ROUTE]) },
    isAnonymous,
  );
  const robots = new RobotStore(deps.sql);
  const ldapDirectory = deps.config.ldap ? new LdapDirectory(deps.config.ldap) : undefined;
  // Webhooks, registry endpoints, token realms, redirects and the OIDC provider: never this host, cloud metadata, or a denied range.
  const guard = new OutboundGuard({
    deny: deps.config.outboundDeny,
    allow: deps.config.outboundAllow,
    own: () => [...ownEndpoints(app.server.address()), ...ownEndpoints(deps.mirrorAddress?.() ?? null)],
    publicUrl: deps.config.publicUrl,
    resolve: deps.resolve,
  });
  // Loaded only in oidc mode: openid-client is ESM, which Node 22.9-22.11 cannot require without a flag.
  const oidcProvider = deps.config.oidc ? new (await import("./identity/oidc/provider")).OidcProvider(deps.config.oidc, guard) : undefined;
  const cliSecrets =
    deps.config.oidc && oidcProvider
      ? new OidcCliSecrets(deps.sql, deps.secrets, oidcProvider, { checkSeconds: deps.config.oidc.refreshCheckSeconds, adminGroup: deps.config.oidc.adminGroup })
      : undefined;
  const authenticator = new Authenticator(deps.sql, robots, new LoginThrottle(deps.config.loginThrottle), ldapDirectory, cliSecrets, deps.config.loginCache, deps.config.loginMemoSeconds === undefined ? undefined : deps.config.loginMemoSeconds * 1000);
  const tokens = new TokenService(deps.signingKey, deps.config.tokenTtlSeconds);
  const projects = new ProjectStore(deps.sql);
  const members = new MemberStore(deps.sql);
  const authorizer = new Authorizer(members);
  const uiSessions = new UiSessions(new SessionStore(deps.sql), deps.config.uiSession);
  const metadata = new DistributionMetadata(deps.sql);
  const uploads = new UploadService(deps.store, metadata, {
    started: () => metrics.uploadsInProgress.inc(),
    ended: (bytes) => {
      metrics.uploadsInProgress.dec();
      metrics.bytesReceived.inc(bytes);
    },
  });
  // Run-time settings (/configurations): BERTH_<KEY> fixes a key, else the database holds what an admin chose.
  const settings = new Settings(deps.sql, { ...deps.config.fixedSettings, project_creation_restriction: deps.config.projectCreationRestriction });
  const webhookPolicies = new WebhookPolicies(deps.sql, deps.secrets);
  const outbox = new WebhookOutbox(deps.sql, webhookPolicies, {
    ...DEFAULT_OUTBOX_OPTIONS,
    retryBaseMs: deps.config.webhookRetryBaseMs,
    host: deps.config.publicUrl ? new URL(deps.config.publicUrl).host : null,
    guard,
    onError: (error) => app.log.error({ err: error }, "webhook delivery failed"),
  }, deps.secrets);
  // A failed run is recorded in its execution (status, message, log); the log line is a pointer to it, not an alarm.
  const scheduler = new Scheduler(deps.sql, { onError: (error) => app.log.warn({ err: error }, "a scheduled job failed") });
  const replication = new ReplicationStore(deps.sql);
  const triggers = new ReplicationTriggers(replication, scheduler, (error) => app.log.error({ err: error }, "starting event-based replication failed"));
  // Scanning: reports and the queue in the database, workers on every node, pulls checked against the results.
  const scanStore = new ScanStore(deps.sql);
  const allowlists = new CveAllowlists(deps.sql);
  const vulnDb = new VulnDb(deps.sql, deps.config.vulnDb);
  const embeddedScanner = new EmbeddedScanner({ ...EMBEDDED_SCANNER_INFO }, deps.store, scanStore, vulnDb);
  // Harbor's scanner adapter API, both sides: registered adapters a project may choose, and Berth's own adapter.
  const { registrations: scannerRegistrations, directory: scannerDirectory, adapterScans } = setUpScannerAdapters({
    db: deps.sql,
    secrets: deps.secrets,
    guard,
    tokens,
    projects,
    embedded: embeddedScanner,
    config: deps.config.scannerAdapter,
    publicUrl: deps.config.publicUrl,
    self: { url: () => ownUrl(app, deps.tls ? "https" : "http"), fetch: deps.tls?.loopbackFetch },
    onError: (error, what) => app.log.warn({ err: error }, what),
  });
  app.addHook("onClose", () => adapterScans.close());
  // Requests being answered, so that scans (CPU work on this thread) wait for them: pushes are never slowed by scanning.
  const answering = new Set<FastifyRequest>();
  app.addHook("onRequest", async (request) => void answering.add(request));
  app.addHook("onResponse", async (request) => void answering.delete(request));
  app.addHook("onRequestAbort", async (request) => void answering.delete(request));
  const scans = new ScanService(
    {
      busy: () => answering.size > 0,
      scans: scanStore,
      scanner: embeddedScanner,
      external: scannerDirectory,
      metadata,
      projects,
      allowlists,
      // SCANNING_* events go where every other event goes (the fan-out below, which also holds auto-scan).
      events: { publish: (event) => events.publish(event) },
      // SBOMs are pushed through this registry's own /v2 as the scanner, so quotas, events and audit apply.
      publishSbom: (repository, subject, document, replaces) =>
        pushSbomReferrer(
          loopbackRegistry({ url: () => ownUrl(app, deps.tls ? "https" : "http"), fetch: deps.tls?.loopbackFetch, tokens }, SCANNER),
          repository,
          subject,
          document,
          replaces,
        ),
    },
    {
      ...DEFAULT_SCAN_OPTIONS,
      ...deps.config.scan,
      onError: (error, what) => app.log.warn({ err: error }, what),
      onScanFailed: (artifact, reason) => app.log.info({ artifact, reason }, "a scan failed"),
    },
  );
  // Reports go stale when the database changes: re-matched at once here, and within a minute on other nodes.
  vulnDb.onChange(() => void scans.rematch().catch((error) => app.log.warn({ err: error }, "re-matching reports")));
  app.addHook("onReady", async () => scans.start());
  app.addHook("onClose", () => scans.close());
  const autoScan = new AutoScan(
    projects,
    scans,
    (error) => app.log.error({ err: error }, "queuing a scan on push failed"),
    (skipped) => app.log.warn({ skipped }, "auto_scan: the scan queue is full (BERTH_SCAN_QUEUE_MAX); pushed images left unscanned"),
  );
  // Pushes gathered last are queued before the database closes (any node may scan them later).
  app.addHook("onClose", () => autoScan.flush());
  const events: EventPublisher = fanOut([deps.events ?? outbox, triggers, autoScan]);
  const quotas = new ProjectQuotas(deps.sql, events);
  const immutableRules = new ImmutableRules(deps.sql);
  const pullStats = new PullStats(deps.sql, (error) => app.log.error({ err: error }, "writing pull statistics failed"));
  app.addHook("onClose", () => pullStats.flush());
  const audit = new AuditLog(deps.sql, (error) => app.log.error({ err: error }, "writing pull audit records failed"));
  app.addHook("onClose", () => audit.flush());
  const forwarder = new SyslogForwarder(() => settings.get("audit_log_forward_endpoint"), guard, (error, endpoint) =>
    app.log.warn({ err: error, endpoint }, "forwarding audit records failed (audit_log_forward_endpoint)"),
  );
  audit.forwardTo((records) => void forwarder.forward(records));
  app.addHook("onClose", async () => forwarder.close());
  const registries = new RegistryStore(deps.sql, guard, deps.secrets);
  const proxy = new ProxyCache(metadata, deps.store, uploads, registries, {
    ttlMs: deps.config.proxyCacheTtlSeconds * 1000,
    patienceMs: PROXY_PATIENCE_MS,
    onError: (error) => app.log.warn({ err: error }, "proxy cache"),
    onCached: (repository, digest) => void autoScan.queue(repository, [digest]),
  });
  app.addHook("onClose", () => proxy.close());
  const ctx: DistributionContext = {
    proxy,
    audit,
    authorizer,
    store: deps.store,
    metadata,
    projects,
    uploads,
    events,
    quotas,
    immutableRules,
    pullStats,
    publicUrl: deps.config.publicUrl,
    maxManifestReferences: deps.config.maxManifestReferences,
    maxUploadsPerUser: deps.config.maxUploadsPerUser,
    onBytesSent: (bytes) => metrics.bytesSent.inc(bytes),
    pullPolicy: (project, repository, digest) => scans.pullDecision(project, repository, digest),
  };

  markMirrorRequests(app, mirror);
  // fastify 5 refuses object defaults (they would be shared by all requests); onRequest sets it.
  app.decorateRequest<Principal>("principal", null as unknown as Principal);
  app.decorateRequest("routeLabel", "");
  app.decorateRequest<TokenAccess[] | null>("tokenAccess", null);
  app.decorateRequest("publicBase", "");
  app.decorateRequest<ResolvedSession | null>("uiSession", null);

  app.addHook("onRequest", async (request, reply) => {
    request.routeLabel = request.routeOptions.url ?? "unmatched";
    request.principal = ANONYMOUS;
    request.tokenAccess = null;
    // The mirror's clients get tokens from the mirror (their scopes name upstream paths), never from BERTH_PUBLIC_URL.
    request.publicBase = request.mirror ? "" : (deps.config.publicUrl ?? "");
    request.uiSession = null;
    const host = request.headers.host;
    if ((request.mirror || !deps.config.publicUrl) && host !== undefined && !isHostAndPort(host)) {
      throw new HarborError("BAD_REQUEST", "the Host header must be a host name or address with an optional port");
    }
    const authorization = request.headers.authorization;
    if (authorization !== undefined && /^bearer /i.test(authorization)) {
      // The scanner adapter API reads its own bearer credential (the adapter API key).
      if (isAdapterRequest(request.url)) return;
      if (!isDistribution(request)) throw new HarborError("UNAUTHORIZED", "bearer tokens are accepted on /v2 only; use Basic auth");
      let verified;
      try {
        verified = tokens.verify(authorization.slice(7).trim());
      } catch {
        throw new OciError("UNAUTHORIZED", "invalid or expired token");
      }
      request.principal = verified.principal;
      request.tokenAccess = verified.access;
      return;
    }
    if (deps.internal && authorization !== undefined && !isDistribution(request) && isInternal(authorization, deps.internal.secret)) {
      request.principal = deps.internal.principal;
      return;
    }
    // The web UI's session cookie, where no Authorization header speaks instead (/api and sign-out only, never /v2).
    if (authorization === undefined && acceptsSessionCookie(request.url)) {
      const session = await sessionOf(request, uiSessions);
      if (session) {
        request.principal = session.principal;
        request.uiSession = session;
        return;
      }
    }
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization, request.ip);
    } catch (error) {
      if (error instanceof TooManyAttemptsError) {
        reply.header("Retry-After", String(error.retryAfterSeconds));
        throw isDistribution(request) ? new OciError("TOOMANYREQUESTS", error.message) : new HarborError("TOO_MANY_REQUEST", error.message);
      }
      if (!(error instanceof BadCredentialsError)) throw error;
      throw isDistribution(request)
        ? new OciError("UNAUTHORIZED", error.message)
        : new HarborError("UNAUTHORIZED", error.message);
    }
  });
  limitMirrorRequests(app, { projects });
  limitAnonymousClients(app, deps.config.anonymousLimits, isAnonymous);
  refuseWritesWhileReadOnly(app, settings);

  // A graceful stop waits for every connection to end: without this, a keep-alive client (docker, skopeo) whose
  // request finished during the stop would hold the process for the whole keep-alive timeout (72 s in fastify).
  // Responses sent from now on say "Connection: close", and connections that fall idle are closed as they do
  // (fastify closes the idle ones only once, when the stop begins).
  let closing = false;
  let idleSweep: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    closing = true;
    idleSweep = setInterval(() => app.server.closeIdleConnections(), 200);
    idleSweep.unref();
  });
  app.addHook("onClose", async () => clearInterval(idleSweep));
  const securityHeaders = responseSecurityHeaders(deps.tls !== undefined);
  const uiHeaders = uiSecurityHeaders(deps.tls !== undefined);
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("X-Request-Id", request.id);
    reply.headers(isUiPage(request.url) ? uiHeaders : securityHeaders);
    // The browser learns its write token from any answer to its session, never from a URL or storage it keeps.
    if (request.uiSession) reply.header(CSRF_HEADER, request.uiSession.csrfToken);
    if (closing) reply.header("Connection", "close");
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const refused = refusedWriteEntry(request.method, request.url, reply.statusCode);
    if (refused) audit.queue(refused, actorOf(request));
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ method: request.method, route: request.routeLabel, status: reply.statusCode });
    metrics.latency.observe({ method: request.method, route: request.routeLabel }, seconds);
    request.log.info(
      { method: request.method, url: loggableUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime), user: principalName(request.principal) },
      "request",
    );
  });

  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) =>
    sendError(
      isDistribution(request)
        ? new OciError("NAME_UNKNOWN", `no such endpoint: ${request.method} ${request.url.slice(0, 200)}`)
        : new HarborError("NOT_FOUND", `no such endpoint: ${request.method} ${request.url.slice(0, 200)}`),
      request,
      reply,
    ),
  );

  await app.register(async (v2) => registerDistributionRoutes(v2, ctx));
  const apiDeps = { sql: deps.sql, audit, projects, members, authorizer };
  const labels = new Labels(deps.sql);
  const userGroups = new UserGroups(deps.sql);
  const creationRule = new ProjectCreationRule(deps.sql, settings, deps.embeddedController ?? false);
  const gitops = new GitOpsStatus(deps.sql);
  registerProjectRoutes(app, { ...apiDeps, creationRule, allowlists, gitops, settings });
  registerGitOpsRoutes(app, { ...apiDeps, gitops });
  registerConfigurationRoutes(app, { ...apiDeps, settings, creationRule, publicUrl: deps.config.publicUrl, hasCaRoot: deps.config.tlsCaFile !== undefined, authMode: deps.config.authMode, identity: { ldap: deps.config.ldap, oidc: deps.config.oidc } });
  registerLoginRoutes(app, { authenticator, sessions: uiSessions, maxSeconds: deps.config.uiSession.maxSeconds, publicUrl: deps.config.publicUrl, authMode: deps.config.authMode });
  if (deps.config.oidc && oidcProvider) {
    registerOidcRoutes(app, {
      provider: oidcProvider,
      onboarding: new OidcOnboarding(deps.sql, deps.secrets, deps.config.oidc.adminGroup),
      sessions: uiSessions,
      secrets: deps.secrets,
      maxSeconds: deps.config.uiSession.maxSeconds,
      publicUrl: deps.config.publicUrl,
    });
  }
  registerUiRoutes(app, await loadUiBundle(deps.uiDir ?? defaultUiDir()));
  registerMemberRoutes(app, { ...apiDeps, groups: userGroups, directory: ldapDirectory });
  registerAuditRoutes(app, apiDeps);
  registerTokenRoutes(app, { ...apiDeps, tokens });
  registerUserRoutes(app, { ...apiDeps, users: new UserStore(deps.sql), authenticator, creationRule, authMode: deps.config.authMode, cliSecrets });
  registerRobotRoutes(app, { ...apiDeps, robots, authenticator, settings });
  registerQuotaRoutes(app, { quotas, audit });
  registerImmutableRuleRoutes(app, { ...apiDeps, immutableRules });
  const gc = new GarbageCollector(deps.sql, deps.store, metadata, deps.config.uploadPurgeAgeSeconds * 1000);
  registerGcJob(scheduler, gc, deps.config.gcGraceSeconds * 1000);
  // Abandoned upload sessions go every hour whatever the GC schedule (which is none by default), hash state with them.
  const purgeTimer = setInterval(
    () => void gc.purgeUploads().then(({ sessions }) => uploads.forget(sessions), (error) => app.log.warn({ err: error }, "purging abandoned uploads failed")),
    UPLOAD_PURGE_INTERVAL_MS,
  );
  purgeTimer.unref();
  app.addHook("onClose", async () => clearInterval(purgeTimer));
  registerGcRoutes(app, { scheduler, audit });
  registerLdapRoutes(app, { sql: deps.sql, directory: ldapDirectory });
  registerPurgeAuditJob(scheduler, deps.sql);
  registerPurgeAuditRoutes(app, { scheduler, audit });
  app.addHook("onReady", () => seedDefaultPurgeSchedule(deps.sql, scheduler, deps.config.auditRetentionDays));
  const vulnDbSpool = path.join(deps.config.dataDir, "tmp", "vulndb");
  const scheduleVulnDbSync = registerVulnDbSync(scheduler, { vulndb: vulnDb, guard, config: deps.config.vulnDb, schedule: deps.config.vulnDb.schedule, spoolDir: vulnDbSpool });
  app.addHook("onReady", scheduleVulnDbSync);
  const vulnDbSync = deps.config.vulnDb.url ? { schedule: deps.config.vulnDb.schedule, ecosystems: deps.config.vulnDb.ecosystems } : null;
  registerVulnDbRoutes(app, { sql: deps.sql, vulndb: vulnDb, audit, scheduler, spoolDir: vulnDbSpool, ...deps.config.vulnDb, sync: vulnDbSync });
  const retention = new RetentionStore(deps.sql);
  registerRetentionJob(scheduler, { sql: deps.sql, retention, projects, metadata, immutableRules, events, audit });
  registerRetentionRoutes(app, { ...apiDeps, retention, scheduler });
  registerRegistryRoutes(app, { registries, audit, usedBy: async (id) => [...(await replication.usingRegistry(id)), ...(await projects.proxying(id))] });
  registerReplicationJob(scheduler, {
    store: replication,
    registries,
    local: localSide({ url: () => ownUrl(app, deps.tls ? "https" : "http"), fetch: deps.tls?.loopbackFetch, tokens, sql: deps.sql, metadata, projects, members, audit, labels }),
  });
  registerReplicationRoutes(app, { store: replication, registries, scheduler, audit, policiesChanged: () => triggers.forget() });
  // Endpoint health is re-checked in the background; any node may do it (the result is the same).
  const healthTimer = setInterval(() => void registries.checkAll().catch((error) => app.log.warn({ err: error }, "registry health checks failed")), REGISTRY_HEALTH_MS);
  healthTimer.unref();
  app.addHook("onClose", async () => clearInterval(healthTimer));
  registerWebhookRoutes(app, { ...apiDeps, webhookPolicies, outbox, guard, maxTargets: deps.config.webhookMaxTargets });
  const artifacts = new ArtifactStore(deps.sql);
  const imageConfigs = new ImageConfigs(deps.store);
  registerArtifactRoutes(app, {
    ...apiDeps,
    artifacts,
    metadata,
    immutableRules,
    events,
    scanOverviews: async (repository, digests) => scans.overviews(repository, digests),
    sbomOverviews: async (digests) => scans.sbomOverviews(digests),
    imageConfigs,
    labelsOf: async (repositoryId, digests) => new Map([...(await labels.ofArtifacts(repositoryId, digests))].map(([digest, rows]) => [digest, rows.map(labelToApi)])),
  });
  registerArtifactAdditionRoutes(app, { ...apiDeps, artifacts, metadata, imageConfigs, store: deps.store, chartLimits: deps.config.chartLimits });
  registerArtifactCopyRoutes(app, { ...apiDeps, artifacts, metadata, quotas, immutableRules, events, pullPolicy: (project, repository, digest) => scans.pullDecision(project, repository, digest) });
  registerAccessoryRoutes(app, { ...apiDeps, artifacts, metadata });
  registerLabelRoutes(app, { ...apiDeps, labels });
  registerUserGroupRoutes(app, { groups: userGroups, members, audit });
  registerArtifactLabelRoutes(app, { ...apiDeps, artifacts, metadata, labels });
  registerSearchRoutes(app, { ...apiDeps, overview: new ProjectOverview(deps.sql, projects), gitops });
  registerSystemStatusRoutes(app, { volumePath: deps.config.storage.kind === "fs" ? deps.config.dataDir : null, caFile: deps.config.tlsCaFile });
  registerIconRoutes(app);
  registerScanRoutes(app, { ...apiDeps, artifacts, metadata, scans, allowlists });
  registerScannerRoutes(app, { ...apiDeps, scans, registrations: scannerRegistrations, directory: scannerDirectory });
  registerScannerAdapterRoutes(app, { scans: adapterScans, scanner: embeddedScanner.info, apiKey: deps.config.scannerAdapter.apiKey, refreshAfterSeconds: 1 });
  registerScanAllJob(scheduler, { db: deps.sql, scans });
  registerScanAllRoutes(app, { scheduler, scans: scanStore, audit });
  registerSecurityHubRoutes(app, { hub: new SecurityHub(deps.sql) });
  const cveExportFiles = new CveExportFiles(deps.sql);
  registerCveExportJob(scheduler, { db: deps.sql, files: cveExportFiles, scannerName: scans.scanner.name, ttlHours: deps.config.scan.exportTtlHours });
  registerCveExportRoutes(app, { ...apiDeps, scheduler, files: cveExportFiles });
  app.addHook("onReady", async () => outbox.start());
  app.addHook("onClose", () => outbox.stop());
  app.addHook("onReady", () => scheduler.start());
  app.addHook("onClose", () => scheduler.stop());
  registerControllerStateRoutes(app, { sql: deps.sql, audit });
  // /metrics is not served here but on BERTH_METRICS_ADDR (server.ts): the registry port answers it 404.
  registerOpsRoutes(app, { sql: deps.sql, store: deps.store });
  return app;
}
