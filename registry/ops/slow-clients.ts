import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";

export interface SlowClientLimits {
  /** The whole of an /api or /service request (headers and body) must arrive within this many seconds. */
  bodyTimeoutSeconds: number;
  /** A request body (an upload chunk included) that sends nothing for this many seconds is ended. */
  idleTimeoutSeconds: number;
  /** The same deadline for a request without credentials (at most bodyTimeoutSeconds). */
  anonymousBodyTimeoutSeconds: number;
  /**
   * /api routes that take large streamed bodies (vulnerability database zips): for signed-in callers only the idle
   * deadline applies, as for blob uploads.
   */
  uploadRoutes?: ReadonlySet<string>;
}

const TIMEOUT_BODY = JSON.stringify({ errors: [{ code: "REQUEST_TIMEOUT", message: "the request body did not arrive in time" }] });

/** Answers 408 on the raw socket (the request is still being read, so no route can answer) and closes it. */
function endSlowRequest(socket: import("node:net").Socket): void {
  socket.end(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\n\r\n${TIMEOUT_BODY}`);
  socket.destroySoon();
}

/**
 * Slow clients cannot hold connections and memory for ever. Uploads (blobs, and signed-in callers' bodies on
 * `uploadRoutes`) may be large and slow, so they have no deadline as a whole, only the idle one while their body arrives; the API's small JSON bodies must also arrive whole within
 * the body deadline, as Node's requestTimeout would do if it could be set per route. Once a body is in, the server
 * may take its time (a re-hash, a server-side copy) without the client's connection being cut.
 */
export function limitSlowClients(app: FastifyInstance, limits: SlowClientLimits, isAnonymous: (request: FastifyRequest) => boolean): void {
  // The body deadline of each request still arriving, so that it can be brought forward once the caller is known.
  const deadlines = new WeakMap<IncomingMessage, { startedAt: number; timer: NodeJS.Timeout }>();
  const expire = (raw: IncomingMessage) => () => !raw.complete && endSlowRequest(raw.socket);

  // Set before any other hook runs (authentication included), so the time those take counts against the client.
  app.addHook("onRequest", async (request) => {
    const raw = request.raw;
    if (raw.complete) return; // no body to wait for
    const socket = raw.socket;
    const idle = () => (request.url.startsWith("/v2") ? socket.destroy() : endSlowRequest(socket));
    socket.setTimeout(limits.idleTimeoutSeconds * 1000, idle);
    if (!request.url.startsWith("/v2")) {
      const timer = setTimeout(expire(raw), limits.bodyTimeoutSeconds * 1000);
      timer.unref();
      deadlines.set(raw, { startedAt: Date.now(), timer });
    }
    const done = () => {
      const deadline = deadlines.get(raw);
      if (deadline) clearTimeout(deadline.timer);
      deadlines.delete(raw);
      socket.setTimeout(0);
      socket.removeListener("timeout", idle);
    };
    raw.once("end", done);
    raw.once("close", done);
  });

  // After authentication: a caller without credentials gets the shorter deadline, counted from the same start.
  app.addHook("preParsing", async (request, _reply, payload) => {
    const deadline = deadlines.get(request.raw);
    if (deadline && !isAnonymous(request) && limits.uploadRoutes?.has(request.routeOptions.url ?? "")) {
      clearTimeout(deadline.timer);
      deadlines.delete(request.raw);
      return payload;
    }
    if (!deadline || !isAnonymous(request) || limits.anonymousBodyTimeoutSeconds >= limits.bodyTimeoutSeconds) return payload;
    clearTimeout(deadline.timer);
    const remaining = Math.max(0, deadline.startedAt + limits.anonymousBodyTimeoutSeconds * 1000 - Date.now());
    deadline.timer = setTimeout(expire(request.raw), remaining);
    deadline.timer.unref();
    return payload;
  });
}
