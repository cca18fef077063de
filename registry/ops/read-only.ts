import type { FastifyInstance, FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import { OciError } from "../distribution/errors";
import type { Settings } from "../settings/settings";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Writes that stay possible in read-only mode: turning it off again (the admin check is the route's), and signing
 * in and out of the web UI (a session is not registry data).
 */
const ALWAYS_ALLOWED = new Set(["PUT /api/v2.0/configurations", "POST /c/login", "POST /c/log_out"]);

export const READ_ONLY_MESSAGE = "the registry is in read-only mode for maintenance: reads work, writes are refused until an admin turns read_only off";

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** Whether `request` is a write that read-only mode refuses: any non-read method on /v2 or /api. */
export function isRefusedWhileReadOnly(request: Pick<FastifyRequest, "method" | "url">): boolean {
  if (READS.has(request.method)) return false;
  const path = pathOf(request.url);
  if (ALWAYS_ALLOWED.has(`${request.method} ${path}`)) return false;
  return path === "/v2" || path.startsWith("/v2/") || path.startsWith("/api/");
}

/**
 * The read_only setting (Harbor's maintenance switch): while it is on, every write on /v2 and /api answers 503,
 * with OCI's UNAVAILABLE on /v2 (clients treat it as temporary) and Harbor's SERVICE_UNAVAILABLE on /api. It is
 * checked before authentication, so no write does any work; every node sees a change within the settings cache's
 * lifetime (a few seconds).
 */
export function refuseWritesWhileReadOnly(app: FastifyInstance, settings: Settings): void {
  app.addHook("onRequest", async (request) => {
    if (!isRefusedWhileReadOnly(request) || !(await settings.get("read_only"))) return;
    const path = pathOf(request.url);
    throw path === "/v2" || path.startsWith("/v2/") ? new OciError("UNAVAILABLE", READ_ONLY_MESSAGE) : new HarborError("SERVICE_UNAVAILABLE", READ_ONLY_MESSAGE);
  });
}
