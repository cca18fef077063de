import { GROUP_TYPES } from "../../auth/principal";
import type { FastifyInstance } from "fastify";
import { HarborError } from "../../api/errors";
import type { SecretBox } from "../../secrets/secret-box";
import { cookieValue, SESSION_COOKIE, sessionCookie } from "../../ui/cookies";
import { isSecure } from "../../ui/login-routes";
import type { UiSessions } from "../../ui/sessions";
import { LOGIN_STATE_COOKIE, LOGIN_STATE_SECONDS, loginStateCookie, openLoginState, sealLoginState } from "./login-state";
import type { OidcOnboarding } from "./onboarding";
import type { OidcProvider } from "./provider";
import { OidcSignInError } from "./sign-in-error";

export interface OidcRouteDeps {
  provider: OidcProvider;
  onboarding: OidcOnboarding;
  sessions: UiSessions;
  secrets: SecretBox;
  maxSeconds: number;
  /** BERTH_PUBLIC_URL: the callback URL registered at the provider is built from it; else from the request. */
  publicUrl?: string;
}

const CALLBACK_PATH = "/c/oidc/callback";

/**
 * OIDC sign-in for the web interface: /c/oidc/login sends the browser to the provider with PKCE, state and nonce
 * (kept sealed in a short-lived cookie), /c/oidc/callback checks what comes back, onboards the user and starts a UI
 * session exactly as POST /c/login does, then opens /ui/.
 */
export function registerOidcRoutes(app: FastifyInstance, deps: OidcRouteDeps): void {
  app.get("/c/oidc/login", async (request, reply) => {
    // The provider only redirects to a registered URI, so a forged Host header gets no code anywhere else.
    const origin = deps.publicUrl ?? `${request.protocol}://${request.host}`;
    const { url, pending } = await signInStep(() => deps.provider.start(`${origin}${CALLBACK_PATH}`), "SERVICE_UNAVAILABLE");
    return reply
      .header("Set-Cookie", loginStateCookie(sealLoginState(deps.secrets, pending), { secure: isSecure(request, deps.publicUrl), maxAgeSeconds: LOGIN_STATE_SECONDS }))
      .header("Cache-Control", "no-store")
      .redirect(url, 302);
  });

  app.get(CALLBACK_PATH, async (request, reply) => {
    const secure = isSecure(request, deps.publicUrl);
    // The pending sign-in is used once, whatever the outcome.
    reply.header("Set-Cookie", loginStateCookie("", { secure, maxAgeSeconds: 0 })).header("Cache-Control", "no-store");
    const pending = openLoginState(deps.secrets, cookieValue(request.headers.cookie, LOGIN_STATE_COOKIE));
    if (!pending) throw new HarborError("BAD_REQUEST", "no sign-in is in progress in this browser (or it expired): start again at /c/oidc/login");
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
    const identity = await signInStep(() => deps.provider.finish(pending, query), "UNAUTHORIZED");
    const user = await signInStep(() => deps.onboarding.signIn(identity), "FORBIDDEN");
    // The provider's groups claim: project memberships of these OIDC groups grant their roles in this session.
    const groups = identity.groups.map((name) => ({ type: GROUP_TYPES.oidc, name }));
    const { sessionId } = await deps.sessions.start(user.id, cookieValue(request.headers.cookie, SESSION_COOKIE), groups);
    request.principal = { kind: "user", id: user.id, username: user.username, sysadmin: user.sysadmin, groups };
    reply.header("Set-Cookie", sessionCookie(sessionId, { secure, maxAgeSeconds: deps.maxSeconds }));
    return reply.redirect("/ui/", 302);
  });
}

/** Runs a step of the sign-in; its refusal becomes a Harbor error with `code`, anything else stays a server error. */
async function signInStep<T>(step: () => Promise<T>, code: "SERVICE_UNAVAILABLE" | "UNAUTHORIZED" | "FORBIDDEN"): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof OidcSignInError) throw new HarborError(code, error.message);
    throw error;
  }
}
