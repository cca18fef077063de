/** The provider refused, or what it returned did not check out; the message says why and holds no token. */
export class OidcSignInError extends Error {}
