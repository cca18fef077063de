import { createPublicKey, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import type { SigningKey } from "../../../registry/auth/token-keys";
import { TOKEN_TTL_SECONDS, TokenService } from "../../../registry/auth/token-service";

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
    const otherAudience = jwt.sign({ access: ACCESS }, key.privateKey, { algorithm: "ES256", issuer: "berth-token-issuer", audience: "other" });
    expect(() => tokens.verify(otherAudience)).toThrow(/audience/);
    const { token } = tokens.issue(ALICE, ACCESS);
    jest.useFakeTimers({ now: Date.now() + (TOKEN_TTL_SECONDS + 1) * 1000 });
    expect(() => tokens.verify(token)).toThrow(/expired/);
  });

  it("rejects an unsigned token (alg none)", () => {
    const unsigned = jwt.sign({ access: ACCESS, uid: 7 }, "", { algorithm: "none", issuer: "berth-token-issuer", audience: "berth", subject: "alice" });
    expect(() => tokens.verify(unsigned)).toThrow();
  });
});
