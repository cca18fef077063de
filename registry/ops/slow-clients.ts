import type { FastifyInstance } from "fastify";

export interface SlowClientLimits {
  /** The whole of an /api or /service request (headers and body) must arrive within this many seconds. */
  bodyTimeoutSeconds: number;
  /** A request body (an upload chunk included) that sends nothing for this many seconds is ended. */
  idleTimeoutSeconds: number;
}

const TIMEOUT_BODY = JSON.stringify({ errors: [{ code: "REQUEST_TIMEOUT", message: "the request body did not arrive in time" }] });

/** Answers 408 on the raw socket (the request is still being read, so no route can answer) and closes it. */
function endSlowRequest(socket: import("node:net").Socket): void {
  socket.end(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\n\r\n${TIMEOUT_BODY}`);
  socket.destroySoon();
}

/**
 * Slow clients cannot hold connections and memory for ever. Uploads may be large and slow, so they have no deadline
 * as a whole, only the idle one while their body arrives; the API's small JSON bodies must also arrive whole within
 * the body deadline, as Node's requestTimeout would do if it could be set per route. Once a body is in, the server
 * may take its time (a re-hash, a server-side copy) without the client's connection being cut.
 */
export function limitSlowClients(app: FastifyInstance, limits: SlowClientLimits): void {
  app.addHook("onRequest", async (request) => {
    const raw = request.raw;
    if (raw.complete) return; // no body to wait for
    const socket = raw.socket;
    const idle = () => (request.url.startsWith("/v2") ? socket.destroy() : endSlowRequest(socket));
    socket.setTimeout(limits.idleTimeoutSeconds * 1000, idle);
    const deadline = request.url.startsWith("/v2") ? null : setTimeout(() => !raw.complete && endSlowRequest(socket), limits.bodyTimeoutSeconds * 1000);
    deadline?.unref();
    const done = () => {
      if (deadline) clearTimeout(deadline);
      socket.setTimeout(0);
      socket.removeListener("timeout", idle);
    };
    raw.once("end", done);
    raw.once("close", done);
  });
}
