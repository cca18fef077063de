import type { FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import { cookieValue, SESSION_COOKIE } from "./cookies";
import { UiSessions, type ResolvedSession } from "./sessions";

/** The header Harbor's portal sends its CSRF token in, and answers it in. */
export const CSRF_HEADER = "X-Harbor-CSRF-Token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Where a session cookie counts: the management API and sign-out. Never /v2 or /service (registry clients keep
 * Basic and bearer auth; a browser that wandered to /v2 must not push with its cookie), nor the scanner adapter API.
 */
export function acceptsSessionCookie(url: string): boolean {
  return url.startsWith("/api/") || url === "/c/log_out" || url.startsWith("/c/log_out?");
}

/**
 * The session a request's cookie names, or null. A write made with it must carry the session's CSRF token, or it is
 * refused (403) before any route runs: a form or script on another site can send the cookie (top-level GETs, same-site
 * subdomains) but cannot read the token.
 */
export async function sessionOf(request: FastifyRequest, sessions: UiSessions): Promise<ResolvedSession | null> {
  const sessionId = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (!sessionId) return null;
  const session = await sessions.resolve(sessionId);
  if (!session) return null;
  if (!SAFE_METHODS.has(request.method) && !UiSessions.csrfMatches(session, request.headers[CSRF_HEADER.toLowerCase()])) {
    throw new HarborError("FORBIDDEN", "CSRF token invalid");
  }
  return session;
}
