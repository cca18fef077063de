import http from "node:http";
import type { Duplex } from "node:stream";
import { codeForStatus } from "../api/errors";
import { ociCodeForStatus } from "../distribution/errors";

/**
 * The answer to a request Node's HTTP parser refused (a raw non-ASCII byte or a control character in the path, a
 * broken header line, headers too large): no route ever sees it, so fastify's generic `{"error", "statusCode"}`
 * would go out. This writes the body of the API the request was for instead: the spec's on /v2, Harbor's elsewhere.
 */

/** The status Node's refusal stands for, as fastify's default handler chooses it. */
function statusOf(error: NodeJS.ErrnoException): number {
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  if (error.code === "HPE_HEADER_OVERFLOW") return 431;
  return 400;
}

/** Whether the refused bytes begin a /v2 request line (`GET /v2/… HTTP/1.1`). */
function isDistributionRequest(rawPacket: unknown): boolean {
  if (!Buffer.isBuffer(rawPacket)) return false;
  return /^[A-Z]+ \/v2(?:[/? ]|$)/.test(rawPacket.subarray(0, 64).toString("latin1"));
}

export function errorBodyFor(error: NodeJS.ErrnoException & { rawPacket?: unknown }, status: number): string {
  const message = status === 431 ? "the request headers are too large" : status === 408 ? "the request took too long" : "the request could not be parsed as HTTP";
  const code = isDistributionRequest(error.rawPacket) ? ociCodeForStatus(status) : codeForStatus(status);
  return JSON.stringify({ errors: [{ code, message }] });
}

/** fastify's `clientErrorHandler`: answers once, in the API's error body, and closes the connection as Node does. */
export function answerUnparsableRequest(error: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Duplex): void {
  // A reset connection has no one left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const status = statusOf(error);
  const body = errorBodyFor(error, status);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
