import type { Principal } from "../auth/principal";
import { parseScopes, type TokenService } from "../auth/token-service";
import { RemoteRegistry } from "./remote-registry";

export interface LoopbackDeps {
  /** This registry's own base URL as this process reaches it (its listening address). */
  url: () => string;
  /** How to reach it: over TLS, a fetch that trusts the certificate it serves. */
  fetch?: typeof fetch;
  tokens: TokenService;
}

/**
 * This registry's own /v2 as a client sees it, acting as `principal` (replication, the scanner's SBOMs): what is
 * written meets everything a push meets (validation, quotas, immutable tags, events, audit). Bearer tokens are
 * minted here for exactly the scope each request needs, with pull, push and delete on the repository, and never
 * leave the process.
 */
export function loopbackAuthorizer(deps: Pick<LoopbackDeps, "tokens">, principal: Principal): (scope: string) => string {
  const minted = new Map<string, { token: string; until: number }>();
  return (scope) => {
    const cached = minted.get(scope);
    if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
    const access = parseScopes([scope]).map((grant) => ({ ...grant, actions: grant.type === "repository" ? ["pull", "push", "delete"] : grant.actions }));
    const { token } = deps.tokens.issue(principal, access);
    // Renewed well before it lapses, so a long copy never carries an expired token.
    minted.set(scope, { token, until: Date.now() + (deps.tokens.ttlSeconds * 1000) / 2 });
    return `Bearer ${token}`;
  };
}

export function loopbackRegistry(deps: LoopbackDeps, principal: Principal, headers?: Record<string, string>): RemoteRegistry {
  return new RemoteRegistry(deps.url(), { authorize: loopbackAuthorizer(deps, principal), fetch: deps.fetch, attempts: 3, headers });
}
