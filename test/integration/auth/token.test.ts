import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

const PASSWORD = "Token-Passw0rd";
let berth: TestBerth;
let admin: RegistryClient;

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("secret", { public: false });
  await admin.pushImage("secret/app", "v1");
  await admin.pushImage("library/app", "v1");
  await admin.createUser("dana", PASSWORD);
  await admin.addMember("secret", "dana", 2);
});
afterAll(() => berth.close());

interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
}

async function tokenFor(auth: string | null, ...scopes: string[]): Promise<{ status: number; body: TokenResponse; access: unknown }> {
  const query = new URLSearchParams([["service", "berth"], ...scopes.map((s) => ["scope", s] as [string, string])]);
  const response = await new RegistryClient(berth.url, auth).fetch(`/service/token?${query}`);
  const body = (await response.json()) as TokenResponse;
  return { status: response.status, body, access: response.status === 200 ? (jwt.decode(body.token) as { access: unknown }).access : null };
}

const bearer = (token: string) => new RegistryClient(berth.url, `Bearer ${token}`);

describe("GET /service/token", () => {
  it("grants what the caller's roles allow, whatever was asked for", async () => {
    expect((await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull")).access).toEqual([
      { type: "repository", name: "secret/app", actions: ["pull", "push"] },
    ]);
    expect((await tokenFor(null, "repository:library/app:push")).access).toEqual([{ type: "repository", name: "library/app", actions: ["pull"] }]);
    expect((await tokenFor(null, "repository:secret/app:pull")).access).toEqual([{ type: "repository", name: "secret/app", actions: [] }]);
    expect((await tokenFor(null, "repository:nothere/app:pull")).access).toEqual([{ type: "repository", name: "nothere/app", actions: [] }]);
  });

  it("grants the catalog to system admins only", async () => {
    expect((await tokenFor(null, "registry:catalog:*")).access).toEqual([{ type: "registry", name: "catalog", actions: [] }]);
    const { body, access } = await tokenFor(ADMIN_AUTH, "registry:catalog:*");
    expect(access).toEqual([{ type: "registry", name: "catalog", actions: ["*"] }]);
    expect((await bearer(body.token).fetch("/v2/_catalog")).status).toBe(200);
  });

  it("refuses an unknown service, anonymous callers without scope, bad credentials and POST", async () => {
    expect((await new RegistryClient(berth.url, null).fetch("/service/token?service=other&scope=repository:a/b:pull")).status).toBe(400);
    expect((await tokenFor(null)).status).toBe(401);
    expect((await tokenFor(basicAuth("dana", "Wrong-Passw0rd"), "repository:secret/app:pull")).status).toBe(401);
    expect((await admin.fetch("/service/token", { method: "POST" })).status).toBe(405);
  });
});

describe("bearer tokens on /v2", () => {
  it("allow exactly the granted actions and challenge with the missing scope otherwise", async () => {
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull,push");
    const dana = bearer(body.token);
    expect((await dana.fetch("/v2/secret/app/manifests/v1")).status).toBe(200);
    expect((await dana.fetch("/v2/secret/app/blobs/uploads/", { method: "POST" })).status).toBe(202);
    const denied = await dana.fetch("/v2/secret/app/manifests/v1", { method: "DELETE" });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toBe(
      `Bearer realm="${berth.url}/service/token",service="berth",scope="repository:secret/app:delete"`,
    );
    // The token names one repository: another in the same project needs another token.
    expect((await dana.fetch("/v2/secret/other/blobs/uploads/", { method: "POST" })).status).toBe(401);
  });

  it("reject forged and expired tokens", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const forged = jwt.sign({ access: [{ type: "repository", name: "secret/app", actions: ["pull"] }] }, privateKey, {
      algorithm: "ES256",
      issuer: "berth-token-issuer",
      audience: "berth",
    });
    expect((await bearer(forged).fetch("/v2/secret/app/manifests/v1")).status).toBe(401);
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull");
    const [header, payload, signature] = body.token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const expired = [header, Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString("base64url"), signature].join(".");
    expect((await bearer(expired).fetch("/v2/secret/app/manifests/v1")).status).toBe(401);
  });

  it("are not accepted on /api", async () => {
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull");
    expect((await bearer(body.token).fetch("/api/v2.0/users/current")).status).toBe(401);
  });
});
