import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { canSystem } from "../auth/rbac";
import { AdapterBusyError, type AdapterScans } from "../scanning/adapter/adapter-scans";
import { ADAPTER_MEDIA_TYPES, AdapterRequestError, normalizedMediaType, parseScanRequest, SCANNABLE_MANIFESTS } from "../scanning/adapter/protocol";
import type { ScannerInfo } from "../scanning/report/harbor";

/** Where Berth serves Harbor's pluggable scanner API: register `<BERTH_PUBLIC_URL>/scanner` as a scanner in Harbor. */
export const ADAPTER_PREFIX = "/scanner";

export function isAdapterRequest(url: string): boolean {
  return url === ADAPTER_PREFIX || url.startsWith(`${ADAPTER_PREFIX}/`);
}

/**
 * A refusal in the adapter API's own error shape (`{"error":{"message"}}`), sent by the app's error handler (shaped
 * as fastify's errors are: a code and a statusCode).
 */
export class AdapterApiError extends Error {
  readonly code = "SCANNER_ADAPTER_ERROR";
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The adapter error body and media type for `message`. */
export function adapterErrorBody(message: string): { contentType: string; body: Buffer } {
  return { contentType: ADAPTER_MEDIA_TYPES.error, body: Buffer.from(JSON.stringify({ error: { message } })) };
}

/**
 * Sends `body` as JSON under the adapter's media type exactly as the spec spells it, serialized here into bytes:
 * fastify would rewrite the type's parameters (or refuse to serialize a type without "json" in it: the report's).
 */
function sendJson(reply: FastifyReply, status: number, contentType: string, body: unknown): FastifyReply {
  return reply.code(status).header("Content-Type", contentType).send(Buffer.from(JSON.stringify(body)));
}

export interface ScannerAdapterDeps {
  scans: AdapterScans;
  scanner: ScannerInfo;
  /** BERTH_SCANNER_API_KEY; without it only system admins and robots with system scanner:create get in. */
  apiKey?: string;
  /** Seconds a caller waits between report polls (sent as Refresh-After). */
  refreshAfterSeconds: number;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest();

/**
 * Whether the caller may use the adapter API: it pulls from any registry it is told of and spends CPU on what it
 * finds, so it is never open. A system admin (or a robot with the system `scanner:create` grant) by Basic auth, or
 * the API key in `X-ScannerAdapter-API-Key` or `Authorization: Bearer` (the ways Harbor registrations send one).
 */
function adapterAuthorizer(apiKey: string | undefined): (request: FastifyRequest) => boolean {
  // Only the key's hash is kept; comparing hashes takes the same time whatever the guess.
  const expected = apiKey ? sha256(apiKey) : null;
  return (request) => {
    if (canSystem(request.principal, "scanner", "create")) return true;
    if (expected === null) return false;
    const header = request.headers["x-scanneradapter-api-key"];
    const bearer = /^bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const given = typeof header === "string" ? header : bearer;
    return given !== undefined && timingSafeEqual(sha256(given.trim()), expected);
  };
}

/**
 * Harbor's pluggable scanner adapter API v1.1 over the embedded scanner, under ADAPTER_PREFIX, so a Harbor can use
 * Berth as its scanner: metadata, scans submitted (202 with an id, never blocking) and reports polled (302 with
 * Refresh-After until ready).
 */
export function registerScannerAdapterRoutes(app: FastifyInstance, deps: ScannerAdapterDeps): void {
  const allowed = adapterAuthorizer(deps.apiKey);
  const base = `${ADAPTER_PREFIX}/api/v1`;

  void app.register(async (adapter) => {
    // Harbor sends its scan requests with the adapter's media type.
    adapter.addContentTypeParser(/^application\/vnd\.scanner\.adapter\.scan\.request\+json/i, { parseAs: "string" }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AdapterApiError(400, "the body is not JSON"), undefined);
      }
    });
    adapter.addHook("preHandler", async (request) => {
      if (!allowed(request)) {
        throw new AdapterApiError(401, "the scanner adapter API needs a system administrator, a robot with scanner:create, or the adapter API key");
      }
    });

    adapter.get(`${base}/metadata`, async (_request, reply) =>
      sendJson(reply, 200, ADAPTER_MEDIA_TYPES.metadata, {
        scanner: deps.scanner,
        capabilities: [{ type: "vulnerability", consumes_mime_types: SCANNABLE_MANIFESTS, produces_mime_types: [ADAPTER_MEDIA_TYPES.report, ADAPTER_MEDIA_TYPES.legacyReport] }],
        properties: { "harbor.scanner-adapter/scanner-type": "os-package-vulnerability" },
      }),
    );

    adapter.post(`${base}/scan`, async (request, reply) => {
      let scanRequest;
      try {
        scanRequest = parseScanRequest(request.body);
      } catch (error) {
        if (error instanceof AdapterRequestError) throw new AdapterApiError(error.status, error.message);
        throw error;
      }
      if (!SCANNABLE_MANIFESTS.some((type) => normalizedMediaType(type) === normalizedMediaType(scanRequest.artifact.mime_type))) {
        throw new AdapterApiError(422, `artifacts of type ${scanRequest.artifact.mime_type.slice(0, 100)} are not scanned; images are`);
      }
      let id: string;
      try {
        id = await deps.scans.submit(scanRequest);
      } catch (error) {
        if (error instanceof AdapterBusyError) throw new AdapterApiError(503, error.message);
        throw error;
      }
      return sendJson(reply, 202, ADAPTER_MEDIA_TYPES.scanResponse, { id });
    });

    adapter.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(`${base}/scan/:id/report`, async (request, reply) => {
      if (request.query.sbom_media_type !== undefined) throw new AdapterApiError(501, "SBOM reports are not offered through the adapter API");
      const accept = normalizedMediaType(request.headers.accept ?? "");
      const legacy = accept === normalizedMediaType(ADAPTER_MEDIA_TYPES.legacyReport);
      const acceptable = accept === "" || accept.includes("*/*") || legacy || accept.includes(normalizedMediaType(ADAPTER_MEDIA_TYPES.report));
      if (!acceptable) throw new AdapterApiError(501, `reports of type ${String(request.headers.accept).slice(0, 100)} are not offered`);
      const state = await deps.scans.state(request.params.id);
      if (!state) throw new AdapterApiError(404, `scan ${request.params.id.slice(0, 100)} is unknown`);
      if (state.status === "Error") throw new AdapterApiError(500, `the scan failed: ${state.message}`);
      if (state.status === "Running") {
        // Harbor reads Refresh-After; the spec's README says Retry-After: both.
        const seconds = String(deps.refreshAfterSeconds);
        return reply.code(302).header("Refresh-After", seconds).header("Retry-After", seconds).header("Location", request.url).send();
      }
      return sendJson(reply, 200, legacy ? ADAPTER_MEDIA_TYPES.legacyReport : ADAPTER_MEDIA_TYPES.report, state.report);
    });
  });
}
