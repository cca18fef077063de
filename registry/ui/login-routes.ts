import type { FastifyInstance, FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import { isJsonObject } from "../api/params";
import type { AuthMode } from "../auth/auth-mode";
import { BadCredentialsError, BUILT_IN_ADMIN, TooManyAttemptsError, type Authenticator } from "../auth/authenticate";
import { cookieValue, SESSION_COOKIE, sessionCookie } from "./cookies";
import { CSRF_HEADER } from "./session-auth";
import type { UiSessions } from "./sessions";

export interface LoginRouteDeps {
  authenticator: Authenticator;
  sessions: UiSessions;
  maxSeconds: number;
  /** BERTH_PUBLIC_URL: an https one makes the cookie Secure even when TLS ends at a proxy that does not say so. */
  publicUrl?: string;
  /** BERTH_AUTH_MODE; unset → db. In oidc mode only the built-in admin signs in with a password here. */
  authMode?: AuthMode;
}

// A username and a password; Harbor's form is urlencoded, the Berth UI sends JSON.
const LOGIN_BODY_LIMIT = 4096;

export function isSecure(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return request.protocol === "https" || (publicUrl?.startsWith("https:") ?? false);
}

function credentialsOf(body: unknown): { username: string; password: string } {
  if (!isJsonObject(body)) throw new HarborError("BAD_REQUEST", "send principal and password as a form or a JSON object");
  const { principal, password } = body;
  if (typeof principal !== "string" || principal === "" || typeof password !== "string") {
    throw new HarborError("BAD_REQUEST", "principal and password are required");
  }
  return { username: principal, password };
}

/**
 * Harbor's portal sign-in and sign-out: POST /c/login (principal + password → a session cookie and the CSRF token)
 * and POST /c/log_out (the session is deleted on the server). Passwords go through the same Authenticator, and so
 * the same login throttle, as Basic auth.
 */
export function registerLoginRoutes(app: FastifyInstance, deps: LoginRouteDeps): void {
  void app.register(async (ui) => {
    ui.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: LOGIN_BODY_LIMIT }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    ui.post("/c/login", { bodyLimit: LOGIN_BODY_LIMIT }, async (request, reply) => {
      const { username, password } = credentialsOf(request.body);
      // "user:pass" cannot carry a colon in the name; no Berth username has one (the name rule forbids it).
      if (username.includes(":")) throw new HarborError("UNAUTHORIZED", new BadCredentialsError().message);
      // OIDC users have no password (a CLI secret is for command-line clients, not for a browser session).
      if (deps.authMode === "oidc" && username !== BUILT_IN_ADMIN) {
        throw new HarborError("FORBIDDEN", "this registry signs users in with single sign-on: use \"Sign in with SSO\" (/c/oidc/login); only the built-in admin signs in with a password");
      }
      let principal;
      try {
        const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
        principal = await deps.authenticator.authenticate(basic, request.ip);
      } catch (error) {
        if (error instanceof TooManyAttemptsError) {
          reply.header("Retry-After", String(error.retryAfterSeconds));
          throw new HarborError("TOO_MANY_REQUEST", error.message);
        }
        if (error instanceof BadCredentialsError) throw new HarborError("UNAUTHORIZED", error.message);
        throw error;
      }
      // Robots hold API credentials for machines; a browser session would outlive every check made on their tokens.
      if (principal.kind !== "user") throw new HarborError("FORBIDDEN", "robot accounts cannot sign in to the web interface");
      const previous = cookieValue(request.headers.cookie, SESSION_COOKIE);
      const { sessionId, csrfToken } = await deps.sessions.start(principal.id, previous, principal.groups);
      request.principal = principal;
      return reply
        .header("Set-Cookie", sessionCookie(sessionId, { secure: isSecure(request, deps.publicUrl), maxAgeSeconds: deps.maxSeconds }))
        .header(CSRF_HEADER, csrfToken)
        .header("Cache-Control", "no-store")
        .code(200)
        .send();
    });

    ui.post("/c/log_out", { bodyLimit: LOGIN_BODY_LIMIT }, async (request, reply) => {
      if (request.uiSession) await deps.sessions.end(request.uiSession);
      return reply.header("Set-Cookie", sessionCookie("", { secure: isSecure(request, deps.publicUrl), maxAgeSeconds: 0 })).code(200).send();
    });
  });
}
