import type { FastifyReply, FastifyRequest } from "fastify";
import { OciError } from "./errors";

/** A URL a client can follow: absolute under BERTH_PUBLIC_URL when set, otherwise relative to this host. */
export function locationOf(publicUrl: string | undefined, path: string): string {
  return publicUrl ? `${publicUrl}${path}` : path;
}

/** Parses a non-negative integer query parameter (`n`), or null when absent. */
export function intParam(value: unknown, name: string): number | null {
  if (value === undefined || value === "") return null;
  if (typeof value !== "string" || !/^\d{1,9}$/.test(value)) {
    throw new OciError("UNSUPPORTED", `query parameter ${name} must be a non-negative integer`, undefined, 400);
  }
  return Number(value);
}

export function stringParam(value: unknown): string | null {
  if (typeof value !== "string" || value === "") return null;
  // No name, tag, digest or media type contains NUL, and PostgreSQL text cannot hold one: refuse it here.
  if (value.includes("\0")) throw new OciError("UNSUPPORTED", "query parameters must not contain NUL characters", undefined, 400);
  return value;
}

/** The declared Content-Length, or null for chunked bodies. */
export function contentLength(request: FastifyRequest): number | null {
  const header = request.headers["content-length"];
  if (header === undefined) return null;
  return Number(header);
}

/** Whether the request carries a body at all (so an empty PUT is not mistaken for a zero-byte chunk stream). */
export function hasBody(request: FastifyRequest): boolean {
  const length = contentLength(request);
  return length === null ? request.headers["transfer-encoding"] !== undefined : length > 0;
}

/** Paginated list `Link` header, as distribution sends it. */
export function setNextLink(reply: FastifyReply, path: string, n: number, last: string): void {
  reply.header("Link", `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`);
}
