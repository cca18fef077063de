import { GROUP_TYPES } from "../../auth/principal";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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
    const started = await toSignInPage(request, reply, () => signInStep(() => deps.provider.start(`${origin}${CALLBACK_PATH}`), "SERVICE_UNAVAILABLE"));
    if (!started) return reply;
    const { url, pending } = started;
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
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
    const signedIn = await toSignInPage(request, reply, async () => {
      if (!pending) throw new HarborError("BAD_REQUEST", "no sign-in is in progress in this browser (or it expired): start again at /c/oidc/login");
      const identity = await signInStep(() => deps.provider.finish(pending, query), "UNAUTHORIZED");
      return { identity, user: await signInStep(() => deps.onboarding.signIn(identity), "FORBIDDEN") };
    });
    if (!signedIn) return reply;
    const { identity, user } = signedIn;
    // The provider's groups claim: project memberships of these OIDC groups grant their roles in this session.
    const groups = identity.groups.map((name) => ({ type: GROUP_TYPES.oidc, name }));
    const { sessionId } = await deps.sessions.start(user.id, cookieValue(request.headers.cookie, SESSION_COOKIE), groups);
    request.principal = { kind: "user", id: user.id, username: user.username, sysadmin: user.sysadmin, groups };
    reply.header("Set-Cookie", sessionCookie(sessionId, { secure, maxAgeSeconds: deps.maxSeconds }));
    return reply.redirect("/ui/", 302);
  });
}

/** Why a browser's single sign-on failed, as /ui/?sso_error= names it (the sign-in page words each one). */
const SIGN_IN_PAGE_REASONS: Partial<Record<HarborError["code"], string>> = {
  BAD_REQUEST: "expired",
  UNAUTHORIZED: "refused",
  FORBIDDEN: "account",
  SERVICE_UNAVAILABLE: "unavailable",
};

/**
 * Runs the sign-in; when it is refused and the request is a browser's page load (Accept: text/html), the browser is
 * sent back to the sign-in page with the reason's code (never the message: a link could then put any words on
 * Berth's page) and undefined is returned; the message goes to the log. Other clients get Harbor's JSON error.
 */
async function toSignInPage<T>(request: FastifyRequest, reply: FastifyReply, signIn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await signIn();
  } catch (error) {
    const reason = error instanceof HarborError ? SIGN_IN_PAGE_REASONS[error.code] : undefined;
    if (!reason || !String(request.headers.accept ?? "").includes("text/html")) throw error;
    request.log.warn({ code: (error as HarborError).code, reason: (error as HarborError).message }, "single sign-on refused");
    void reply.redirect(`/ui/?sso_error=${reason}`, 302);
    return undefined;
  }
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
