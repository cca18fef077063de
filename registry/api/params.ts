import type { FastifyReply, FastifyRequest } from "fastify";
import { HarborError } from "./errors";

export interface Paging {
  page: number;
  pageSize: number;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  if (typeof value !== "string" || !/^\d{1,9}$/.test(value) || Number(value) < 1) {
    throw new HarborError("BAD_REQUEST", `${name} must be a positive integer`);
  }
  return Number(value);
}

/**
 * `page` (default 1) and `page_size` (default 10, at most 100 as in Harbor's swagger → 422; Berth's own listings for
 * the controller allow more with `maxPageSize`).
 */
export function paging(query: Record<string, unknown>, maxPageSize = 100): Paging {
  const page = positiveInt(query.page, "page", 1);
  const pageSize = positiveInt(query.page_size, "page_size", 10);
  if (pageSize > maxPageSize) throw new HarborError("UNPROCESSABLE_ENTITY", `page_size in query should be less than or equal to ${maxPageSize}`);
  return { page, pageSize };
}

/** Characters a path may keep in a `Link` URL; anything else (quotes, `<>`, spaces, non-ASCII) is percent-encoded. */
const UNSAFE_PATH_CHARACTER = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;

/**
 * `X-Total-Count` and Harbor's `Link` header (relative URLs, entries joined by " , "). The URLs are built from the
 * parsed parameters, re-encoded: a caller's CR/LF, non-Latin-1 text or `>; rel=` can neither break the header nor
 * add entries to it (Harbor decodes them back in, which is how both go wrong).
 */
export function setPageHeaders(request: FastifyRequest, reply: FastifyReply, paging: Paging, total: number): void {
  reply.header("X-Total-Count", total);
  const [rawPath, search = ""] = request.url.split("?", 2);
  const path = rawPath.replace(UNSAFE_PATH_CHARACTER, (character) => encodeURIComponent(character));
  const linkTo = (page: number) => {
    const params = new URLSearchParams(search);
    params.set("page", String(page));
    params.set("page_size", String(paging.pageSize));
    return `<${path}?${params.toString()}>`;
  };
  const links: string[] = [];
  if (paging.page > 1 && (paging.page - 1) * paging.pageSize < total) links.push(`${linkTo(paging.page - 1)}; rel="prev"`);
  if (paging.page * paging.pageSize < total) links.push(`${linkTo(paging.page + 1)}; rel="next"`);
  if (links.length) reply.header("Link", links.join(" , "));
}

/** A single-valued query parameter; a repeated one or one with NUL (which SQL text refuses) is a bad request. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The request's JSON body when it is an object; 400 otherwise. */
export function jsonObjectBody(request: FastifyRequest): Record<string, unknown> {
  if (!isJsonObject(request.body)) throw new HarborError("BAD_REQUEST", "request body must be a JSON object");
  return request.body;
}

export function queryString(query: unknown, key: string): string | undefined {
  const value = (query as Record<string, unknown>)[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.includes("\0")) {
    throw new HarborError("BAD_REQUEST", `${key} must be given once, without NUL characters`);
  }
  return value;
}
