import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { parseChallenge } from "../../../registry/replication/remote-registry";
import { flipS } from "../../support/ecdsa";
import { basicAuth, RegistryClient, type PushedImage } from "../../support/registry-client";

const PASSWORD = "Token-Passw0rd";
let berth: TestBerth;
let admin: RegistryClient;
let secretImage: PushedImage;
let hiddenImage: PushedImage;

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  // dana develops in secret and team; hidden is a private project she is no member of.
  for (const project of ["secret", "team", "hidden"]) await admin.createProject(project, { public: false });
  secretImage = await admin.pushImage("secret/app", "v1");
  hiddenImage = await admin.pushImage("hidden/app", "v1");
  await admin.pushImage("library/app", "v1");
  await admin.createUser("dana", PASSWORD);
  await admin.addMember("secret", "dana", 2);
  await admin.addMember("team", "dana", 2);
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

  it("issues tokens that live 5 minutes and says so in expires_in", async () => {
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull");
    const claims = jwt.decode(body.token) as jwt.JwtPayload;
    expect({ expires_in: body.expires_in, lifetime: claims.exp! - claims.iat! }).toEqual({ expires_in: 300, lifetime: 300 });
  });

  it("refuses an unknown service, anonymous callers without scope, bad credentials and POST", async () => {
    expect((await new RegistryClient(berth.url, null).fetch("/service/token?service=other&scope=repository:a/b:pull")).status).toBe(400);
    expect((await tokenFor(null)).status).toBe(401);
    expect((await tokenFor(basicAuth("dana", "Wrong-Passw0rd"), "repository:secret/app:pull")).status).toBe(401);
    expect((await admin.fetch("/service/token", { method: "POST" })).status).toBe(405);
  });

  it("refuses the old password at once after a change, though the login and its verified secret were remembered", async () => {
    const erinId = await admin.createUser("erin", PASSWORD);
    await admin.addMember("team", "erin", 2);
    for (let i = 0; i < 2; i++) expect((await tokenFor(basicAuth("erin", PASSWORD), "repository:team/app:pull")).status).toBe(200);
    const NEW = "Token-Passw0rd-2";
    const changed = await admin.fetch(`/api/v2.0/users/${erinId}/password`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ new_password: NEW }),
    });
    expect(changed.status).toBe(200);
    expect((await tokenFor(basicAuth("erin", PASSWORD), "repository:team/app:pull")).status).toBe(401);
    const renewed = await tokenFor(basicAuth("erin", NEW), "repository:team/app:pull");
    expect({ status: renewed.status, access: renewed.access }).toEqual({ status: 200, access: [{ type: "repository", name: "team/app", actions: ["pull", "push"] }] });
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
      `Bearer realm="${berth.url}/service/token",service="berth",scope="repository:secret/app:delete",error="insufficient_scope"`,
    );
    expect(await denied.json()).toEqual({
      errors: [{ code: "UNAUTHORIZED", message: "unauthorized to access repository: secret/app, action: delete, caller: user dana" }],
    });
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

  it("reject the high-S twin of a valid token", async () => {
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull");
    expect((await bearer(body.token).fetch("/v2/secret/app/manifests/v1")).status).toBe(200);
    expect((await bearer(flipS(body.token)).fetch("/v2/secret/app/manifests/v1")).status).toBe(401);
  });

  it("are not accepted on /api", async () => {
    const { body } = await tokenFor(basicAuth("dana", PASSWORD), "repository:secret/app:pull");
    expect((await bearer(body.token).fetch("/api/v2.0/users/current")).status).toBe(401);
  });
});

describe("cross-repository mounts through the token flow", () => {
  const dana = basicAuth("dana", PASSWORD);
  const mount = (client: RegistryClient, from: string, digest: string) =>
    client.fetch(`/v2/team/app/blobs/uploads/?mount=${digest}&from=${from}`, { method: "POST" });
  const challengeOf = (response: Response) => parseChallenge(response.headers.get("www-authenticate") ?? "");

  it("challenge for pull on `from` too, so the next token mounts (201)", async () => {
    const first = await mount(new RegistryClient(berth.url, null), "secret/app", secretImage.layerDigest);
    expect(first.status).toBe(401);
    const challenge = challengeOf(first)!;
    expect(challenge.scope).toBe("repository:team/app:pull,push repository:secret/app:pull");
    // The conformance suite's client sends the challenge's scope back as one parameter, as is.
    const { body, access } = await tokenFor(dana, challenge.scope);
    expect(access).toEqual([
      { type: "repository", name: "team/app", actions: ["pull", "push"] },
      { type: "repository", name: "secret/app", actions: ["pull", "push"] },
    ]);
    const mounted = await mount(bearer(body.token), "secret/app", secretImage.layerDigest);
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get("location")).toMatch(new RegExp(`/v2/team/app/blobs/${secretImage.layerDigest}$`));
    expect(await new RegistryClient(berth.url, `Bearer ${body.token}`).pulledDigest("team/app", secretImage.layerDigest)).toBe(secretImage.layerDigest);
  });

  it("asks a token issued without `from` for it (401 insufficient_scope, both scopes)", async () => {
    const { body } = await tokenFor(dana, "repository:team/app:pull,push");
    const response = await mount(bearer(body.token), "secret/app", secretImage.configDigest);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer realm="${berth.url}/service/token",service="berth",scope="repository:team/app:pull,push repository:secret/app:pull",error="insufficient_scope"`,
    );
    expect(((await response.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      "unauthorized to access repository: secret/app, action: pull, caller: user dana",
    );
  });

  it("opens an ordinary upload session (202) when the caller may not pull `from`, telling nothing about it", async () => {
    for (const from of ["hidden/app", "nothere/app"]) {
      const challenge = challengeOf(await mount(new RegistryClient(berth.url, null), from, hiddenImage.layerDigest))!;
      expect(challenge.scope).toBe(`repository:team/app:pull,push repository:${from}:pull`);
      const { body, access } = await tokenFor(dana, challenge.scope);
      expect(access).toEqual([
        { type: "repository", name: "team/app", actions: ["pull", "push"] },
        { type: "repository", name: from, actions: [] },
      ]);
      const response = await mount(bearer(body.token), from, hiddenImage.layerDigest);
      expect(response.status).toBe(202);
      expect(response.headers.get("location")).toMatch(/\/v2\/team\/app\/blobs\/uploads\/[^/]+$/);
    }
    const { body } = await tokenFor(dana, "repository:team/app:pull");
    expect((await bearer(body.token).fetch(`/v2/team/app/blobs/${hiddenImage.layerDigest}`, { method: "HEAD" })).status).toBe(404);
  });
});
