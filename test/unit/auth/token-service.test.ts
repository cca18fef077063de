import { createPublicKey, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import type { SigningKey } from "../../../registry/auth/token-keys";
import { DEFAULT_TOKEN_TTL_SECONDS, TokenService } from "../../../registry/auth/token-service";
import { flipS, P256_ORDER, signatureS } from "../../support/ecdsa";

const HALF_ORDER = P256_ORDER >> 1n;
const TOKEN_TTL_SECONDS = DEFAULT_TOKEN_TTL_SECONDS;
const lowS = (token: string) => (signatureS(token) > HALF_ORDER ? flipS(token) : token);

function testKey(kid: string): SigningKey {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, publicKey: createPublicKey(privateKey), kid };
}

const ALICE = { kind: "user", id: 7, username: "alice", sysadmin: true } as const;
const ACCESS = [{ type: "repository", name: "team/app", actions: ["pull", "push"] }];

describe("TokenService", () => {
  const key = testKey("k1");
  const tokens = new TokenService(key);

  afterEach(() => jest.useRealTimers());

  it("signs ES256 JWTs with the kid and Harbor's claims", () => {
    const { token, issuedAt } = tokens.issue(ALICE, ACCESS);
    const decoded = jwt.decode(token, { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: "ES256", kid: "k1" });
    const claims = decoded.payload as jwt.JwtPayload;
    expect(claims).toMatchObject({ iss: "berth-token-issuer", sub: "alice", aud: "berth", access: ACCESS });
    expect(claims.iat).toBe(Math.floor(issuedAt.getTime() / 1000));
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp! - claims.iat!).toBe(TOKEN_TTL_SECONDS);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect((jwt.decode(tokens.issue(ALICE, ACCESS).token) as jwt.JwtPayload).jti).not.toBe(claims.jti);
  });

  it("verifies its own tokens; the holder keeps only the listed grants, never sysadmin rights", () => {
    const { principal, access } = tokens.verify(tokens.issue(ALICE, ACCESS).token);
    expect(principal).toEqual({ kind: "user", id: 7, username: "alice", sysadmin: false });
    expect(access).toEqual(ACCESS);
  });

  it("issues anonymous tokens with an empty subject", () => {
    const { token } = tokens.issue({ kind: "anonymous" }, []);
    expect((jwt.decode(token) as jwt.JwtPayload).sub).toBe("");
    expect(tokens.verify(token)).toEqual({ principal: { kind: "anonymous" }, access: [] });
  });

  it("rejects tokens signed by another key, for another audience, or expired", () => {
    expect(() => tokens.verify(new TokenService(testKey("k1")).issue(ALICE, ACCESS).token)).toThrow();
    const otherAudience = lowS(jwt.sign({ access: ACCESS }, key.privateKey, { algorithm: "ES256", issuer: "berth-token-issuer", audience: "other" }));
    expect(() => tokens.verify(otherAudience)).toThrow(/audience/);
    const { token } = tokens.issue(ALICE, ACCESS);
    jest.useFakeTimers({ now: Date.now() + (TOKEN_TTL_SECONDS + 1) * 1000 });
    expect(() => tokens.verify(token)).toThrow(/expired/);
  });

  it("rejects an unsigned token (alg none)", () => {
    const unsigned = jwt.sign({ access: ACCESS, uid: 7 }, "", { algorithm: "none", issuer: "berth-token-issuer", audience: "berth", subject: "alice" });
    expect(() => tokens.verify(unsigned)).toThrow();
  });

  it("lives 5 minutes by default, or the lifetime it was given", () => {
    const lifetime = (service: TokenService) => {
      const claims = jwt.decode(service.issue(ALICE, ACCESS).token) as jwt.JwtPayload;
      return claims.exp! - claims.iat!;
    };
    expect(lifetime(tokens)).toBe(300);
    expect(lifetime(new TokenService(key, 60))).toBe(60);
  });

  it("rejects a correctly signed token without exp", () => {
    const forever = lowS(jwt.sign({ access: ACCESS, uid: 7 }, key.privateKey, { algorithm: "ES256", issuer: "berth-token-issuer", audience: "berth", subject: "alice" }));
    expect(() => jwt.verify(forever, key.publicKey)).not.toThrow();
    expect(() => tokens.verify(forever)).toThrow(/exp/);
  });

  it("signs only low-S signatures and rejects the high-S twin of a valid token", () => {
    // ECDSA picks s at random on either side of n/2: 40 tokens leave a 2^-40 chance that none needed flipping.
    const issued = Array.from({ length: 40 }, () => tokens.issue(ALICE, ACCESS).token);
    for (const token of issued) {
      expect(signatureS(token) <= HALF_ORDER).toBe(true);
      const twin = flipS(token);
      expect(() => jwt.verify(twin, key.publicKey, { algorithms: ["ES256"] })).not.toThrow();
      expect(() => tokens.verify(twin)).toThrow(/low-S/);
    }
  });
});
