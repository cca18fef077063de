import { ApiError, forgetCsrfToken, getJson, request } from "./client";
import type { AuthMode, CurrentUser, SystemInfo } from "./types";

/** Who is signed in, and what the registry lets them do everywhere (not per project). */
export interface Session {
  user: CurrentUser;
  /** The server's own rule; the server refuses a create regardless of what the UI shows. */
  canCreateProject: boolean;
  /** Where users other than the built-in admin sign in (db_auth, ldap_auth, oidc_auth). */
  authMode: AuthMode;
}

/** The session (null when signed out) and the registry's auth mode, which the sign-in page follows. */
export interface SessionState {
  session: Session | null;
  authMode: AuthMode;
}

/** Where the browser starts a single sign-on: the server sends it on to the OIDC provider and back to /ui/. */
export const OIDC_LOGIN_PATH = "/c/oidc/login";

/**
 * The current session, or null when signed out. Asks /systeminfo first, which answers everyone (without a 401 that
 * a browser would log as an error) and names the creation restriction only to signed-in callers.
 */
export async function loadSession(): Promise<SessionState> {
  const info = await getJson<SystemInfo>("/api/v2.0/systeminfo");
  if (info.project_creation_restriction === undefined) return { session: null, authMode: info.auth_mode };
  const user = await getJson<CurrentUser>("/api/v2.0/users/current");
  return {
    session: { user, canCreateProject: user.sysadmin_flag || info.project_creation_restriction === "everyone", authMode: info.auth_mode },
    authMode: info.auth_mode,
  };
}

/** POST /c/login; the server's refusal (wrong password, lock-out, a robot) is thrown as it wrote it. */
export async function signIn(principal: string, password: string): Promise<void> {
  await request("/c/login", { method: "POST", body: { principal, password }, quiet401: true });
}

export async function signOut(): Promise<void> {
  try {
    await request("/c/log_out", { method: "POST", quiet401: true });
  } catch (error) {
    // An expired session is signed out already.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  } finally {
    forgetCsrfToken();
  }
}
