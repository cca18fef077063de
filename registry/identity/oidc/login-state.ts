import { SecretBox } from "../../secrets/secret-box";
import { cookieHeader } from "../../ui/cookies";

/** What the callback must match: kept between /c/oidc/login and /c/oidc/callback in the browser, sealed. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export const LOGIN_STATE_COOKIE = "berth_oidc";
/** A sign-in at the provider must finish within this; the cookie is gone afterwards. */
export const LOGIN_STATE_SECONDS = 600;

/**
 * The pending sign-in as a cookie value: sealed with the secret key (AES-GCM), so the browser can neither read the
 * PKCE verifier nor forge or alter the state and nonce, and every node holding the key can open it; no table.
 */
export function sealLoginState(box: SecretBox, pending: PendingLogin, now = Date.now()): string {
  return encodeURIComponent(box.seal(JSON.stringify({ ...pending, expires: now + LOGIN_STATE_SECONDS * 1000 })));
}

/** The pending sign-in of a cookie value, or null (absent, forged, made with another key, or expired). */
export function openLoginState(box: SecretBox, value: string | undefined, now = Date.now()): PendingLogin | null {
  if (!value) return null;
  try {
    const sealed = decodeURIComponent(value);
    // open() passes unsealed text through (for values written before sealing): here that would be a forged state.
    if (!SecretBox.isSealed(sealed)) return null;
    const parsed = JSON.parse(box.open(sealed)) as Partial<PendingLogin> & { expires?: number };
    const { state, nonce, codeVerifier, redirectUri, expires } = parsed;
    if (typeof expires !== "number" || expires <= now) return null;
    if (typeof state !== "string" || typeof nonce !== "string" || typeof codeVerifier !== "string" || typeof redirectUri !== "string") return null;
    return { state, nonce, codeVerifier, redirectUri };
  } catch {
    // A tampered value fails to decrypt, a malformed one to decode.
    return null;
  }
}

export function loginStateCookie(value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  // Lax: the provider's redirect back is a top-level GET navigation, which Lax cookies accompany.
  return cookieHeader(LOGIN_STATE_COOKIE, value, { ...options, path: "/c/oidc/" });
}
