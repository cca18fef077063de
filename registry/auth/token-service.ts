import { randomBytes } from "node:crypto";
import jwt from "jsonwebtoken";
import { ANONYMOUS, NO_SCOPES, principalName, type Principal } from "./principal";
import { hasLowS, withLowS } from "./es256-signature";
import type { SigningKey } from "./token-keys";

/** The `service` clients name when asking for a token, and the token's audience. */
export const TOKEN_SERVICE = "berth";
const ISSUER = "berth-token-issuer";
/** How long a token lives unless BERTH_TOKEN_TTL_SECONDS says otherwise: the longest a revoked grant outlives its revocation. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300;

export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses `scope` parameters (`type:name:actions`, several per parameter separated by spaces). The name may itself
 * contain ':' (a registry host with a port), so it is everything between the first and the last colon.
 */
export function parseScopes(values: string[]): TokenAccess[] {
  const scopes: TokenAccess[] = [];
  for (const scope of values.flatMap((v) => v.split(" ")).filter(Boolean)) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || last === first) continue; // malformed: grants nothing, as Harbor does
    scopes.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").filter(Boolean) });
  }
  return scopes;
}

export interface VerifiedToken {
  principal: Principal;
  access: TokenAccess[];
}

/** Who a token was issued to; it carries no grants of its own beyond its access list. */
function principalOf(claims: jwt.JwtPayload): Principal {
  if (!claims.sub) return ANONYMOUS;
  if (typeof claims.uid === "number") return { kind: "user", id: claims.uid, username: claims.sub, sysadmin: false };
  if (typeof claims.robot === "number") return { kind: "robot", id: claims.robot, name: claims.sub, scopes: NO_SCOPES };
  return ANONYMOUS;
}

export class TokenService {
  constructor(
    private readonly key: SigningKey,
    /** Every token's lifetime; a removed member or disabled robot keeps a token's grants at most this long. */
    readonly ttlSeconds: number = DEFAULT_TOKEN_TTL_SECONDS,
  ) {}

  /** A token for `principal` granting `access`, valid `ttlSeconds` (the service's lifetime unless a caller needs another). */
  issue(principal: Principal, access: TokenAccess[], ttlSeconds: number = this.ttlSeconds): { token: string; issuedAt: Date } {
    const issuedAt = new Date();
    const claims = {
      access,
      // Not standard, but lets the registry name the user in audit records without a lookup.
      uid: principal.kind === "user" ? principal.id : null,
      robot: principal.kind === "robot" ? principal.id : null,
    };
    const signed = jwt.sign(claims, this.key.privateKey, {
      algorithm: "ES256",
      keyid: this.key.kid,
      issuer: ISSUER,
      audience: TOKEN_SERVICE,
      subject: principal.kind === "anonymous" ? "" : principalName(principal),
      expiresIn: ttlSeconds,
      notBefore: 0,
      jwtid: randomBytes(12).toString("base64url"),
    });
    return { token: withLowS(signed), issuedAt };
  }

  /** Verifies signature (low-S only), issuer, audience and lifetime (`exp` required); throws when any is wrong. */
  verify(token: string): VerifiedToken {
    if (!hasLowS(token)) throw new jwt.JsonWebTokenError("invalid signature: not a low-S ES256 signature");
    const claims = jwt.verify(token, this.key.publicKey, { algorithms: ["ES256"], issuer: ISSUER, audience: TOKEN_SERVICE }) as jwt.JwtPayload;
    // jsonwebtoken accepts a token without `exp` as valid forever; ours always carry one.
    if (typeof claims.exp !== "number") throw new jwt.JsonWebTokenError("jwt exp required");
    const access = Array.isArray(claims.access) ? (claims.access as TokenAccess[]) : [];
    // A token carries exactly the grants it lists: its holder is never a system admin through it.
    return { principal: principalOf(claims), access };
  }
}
