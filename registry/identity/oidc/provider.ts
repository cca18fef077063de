import * as client from "openid-client";
import type { OutboundGuard } from "../../outbound/address-guard";
import { guardedDispatcher } from "../../outbound/guarded-dispatcher";
import type { OidcConfig } from "./config";
import type { PendingLogin } from "./login-state";
import { OidcRefreshError } from "./refresh-error";
import { OidcSignInError } from "./sign-in-error";

/** Who came back from the provider, from the checked ID token. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  username: string;
  email: string | null;
  groups: string[];
  refreshToken: string;
}

/** What a successful refresh tells: the token to keep (the provider may rotate it) and, with an ID token, the groups. */
export interface OidcRefresh {
  refreshToken: string;
  /** The groups claim of the refreshed ID token; undefined when the refresh brought no ID token or none with the claim. */
  groups?: string[];
}


/**
 * The relying party (openid-client): discovery on first use (cached; a failed one is retried at the next sign-in),
 * the authorization URL with PKCE (S256), state and nonce, and the code exchange with its ID token checks. Every
 * request to the provider goes through the OutboundGuard: the issuer is the operator's choice, but its discovery
 * document names further endpoints.
 */
export class OidcProvider {
  private discovered: Promise<client.Configuration> | null = null;

  constructor(
    private readonly config: OidcConfig,
    private readonly guard: OutboundGuard,
  ) {}

  /** Where to send the browser, and what its return must match. */
  async start(redirectUri: string): Promise<{ url: string; pending: PendingLogin }> {
    const configuration = await this.configuration();
    const pending = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), redirectUri };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.scopes.join(" "),
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: "S256",
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the code of `query` (the callback's query string) and checks state, nonce and the ID token. */
  async finish(pending: PendingLogin, query: string): Promise<OidcIdentity> {
    const configuration = await this.configuration();
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(configuration, new URL(`${pending.redirectUri}?${query}`), {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      // openid-client says "invalid response encountered" and puts the check that failed in `cause`.
      const cause = (error as Error).cause;
      const detail = cause instanceof Error ? cause.message : (error as Error).message;
      throw new OidcSignInError(`the provider's answer was refused: ${detail}`);
    }
    const claims = tokens.claims();
    if (!claims) throw new OidcSignInError("the provider returned no ID token");
    const username = claims[this.config.usernameClaim];
    if (typeof username !== "string" || username === "") throw new OidcSignInError(`the ID token has no ${this.config.usernameClaim} claim`);
    return {
      issuer: claims.iss,
      subject: claims.sub,
      username,
      email: typeof claims.email === "string" ? claims.email : null,
      groups: this.groupsOf(claims),
      refreshToken: tokens.refresh_token ?? "",
    };
  }

  /**
   * Harbor's rule for CLI secrets: the user's session must still refresh at the provider. Uses the refresh token
   * (through the same guarded fetch as discovery); the provider's new one, if it rotates them, is returned to keep.
   */
  async refresh(refreshToken: string): Promise<OidcRefresh> {
    let configuration: client.Configuration;
    try {
      configuration = await this.configuration();
    } catch (error) {
      throw new OidcRefreshError((error as Error).message, false);
    }
    let tokens;
    try {
      tokens = await client.refreshTokenGrant(configuration, refreshToken);
    } catch (error) {
      if (error instanceof client.ResponseBodyError) {
        const description = error.error_description ? `: ${error.error_description}` : "";
        // invalid_grant is the provider's "this session is over"; other error answers (a misconfigured client) are
        // refusals too, but say nothing about the user, so their token is kept.
        throw new OidcRefreshError(`the provider refused to refresh the session (${error.error}${description})`, error.error === "invalid_grant");
      }
      const cause = (error as Error).cause;
      const detail = cause instanceof Error ? cause.message : (error as Error).message;
      throw new OidcRefreshError(`the provider could not be asked to refresh the session: ${detail}`, false);
    }
    // Some providers put the groups claim in the sign-in's ID token only: without one, the stored groups stay.
    const claims = tokens.claims();
    const hasGroups = claims !== undefined && Array.isArray(claims[this.config.groupsClaim]);
    return { refreshToken: tokens.refresh_token ?? refreshToken, groups: hasGroups ? this.groupsOf(claims) : undefined };
  }

  private groupsOf(claims: client.IDToken): string[] {
    const groups = claims[this.config.groupsClaim];
    return Array.isArray(groups) ? groups.filter((group): group is string => typeof group === "string") : [];
  }

  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((error: Error) => {
      this.discovered = null;
      throw new OidcSignInError(`OIDC discovery at ${this.config.issuer} failed: ${error.message}`);
    });
    return this.discovered;
  }

  private discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.config;
    const guardedFetch: client.CustomFetch = (url, options) =>
      fetch(url, { ...options, dispatcher: guardedDispatcher(this.guard, false) } as RequestInit);
    return client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
      [client.customFetch]: guardedFetch,
      // http:// only when the operator configured it so (a provider on the same private network).
      ...(issuer.startsWith("http:") ? { execute: [client.allowInsecureRequests] } : {}),
    });
  }
}
