/**
 * A refresh at the provider that did not succeed; the message says why and holds no token. `refused`: the provider
 * answered invalid_grant, its word that the session is over (the user was disabled or removed, or the grant revoked).
 */
export class OidcRefreshError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}
