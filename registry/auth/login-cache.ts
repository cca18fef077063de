/**
 * scrypt costs ~50 ms by design, and registry clients send Basic credentials on every request: successful logins are
 * remembered briefly, keyed by a hash of the header so no secret is kept in memory. What a remembered login carries
 * (a directory user's groups, an OIDC user's session check) holds for that long: a user removed from a group keeps
 * its role until the login is checked again.
 */
export interface LoginCacheLimits {
  /** BERTH_LOGIN_CACHE_SECONDS: how long a successful login is remembered; 0 checks every request's credentials. */
  ttlSeconds: number;
  /** BERTH_LOGIN_CACHE_MAX: logins remembered at once (the oldest is dropped for a new one). */
  max: number;
}

export const DEFAULT_LOGIN_CACHE_LIMITS: LoginCacheLimits = { ttlSeconds: 30, max: 1000 };
