import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { LOGIN_STATE_COOKIE, openLoginState, sealLoginState } from "../../../registry/identity/oidc/login-state";
import { readSecretBox } from "../../../registry/secrets/secret-key";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { testPostgresUrl } from "../../support/database";
import { browse, CookieJar, oidcModeEnv, signInThroughIdp, startIdp, type TestIdp } from "../../support/oidc";
import { testIf } from "../../support/tools";

describe("OIDC sign-in (BERTH_AUTH_MODE=oidc)", () => {
  let idp: TestIdp;
  let berth: TestBerth;
  let dir: string;

  beforeAll(async () => {
    idp = await startIdp();
    dir = await mkdtemp(path.join(tmpdir(), "berth-oidc-"));
    berth = await startBerth({ env: { ...(await oidcModeEnv(idp, dir)), BERTH_OIDC_ADMIN_GROUP: "berth-admins" } });
    await idp.configure(`${berth.url}/c/oidc/callback`);
  });

  afterAll(async () => {
    await berth?.close();
    idp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const signIn = (login: string) => signInThroughIdp(berth.url, login);

  it("onboards a new user, gives them a UI session and makes group admins system admins", async () => {
    const { jar, url, response } = await signIn("alice");
    expect(response).toBeNull();
    expect(url.href).toBe(`${berth.url}/ui/`);
    const current = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie: jar.header() } });
    expect(current.status).toBe(200);
    expect(await current.json()).toMatchObject({ username: "alice", email: "alice@example.test", sysadmin_flag: true });
    const groups = await fetch(`${berth.url}/api/v2.0/users/current/groups`, { headers: { cookie: jar.header() } });
    expect(await groups.json()).toEqual([
      { group_type: 3, group_name: "devs", ldap_group_dn: "" },
      { group_type: 3, group_name: "berth-admins", ldap_group_dn: "" },
    ]);

    const found = await fetch(`${berth.url}/api/v2.0/users?q=username%3Dbob`, { headers: { authorization: ADMIN_AUTH } });
    expect(await found.json()).toEqual([]);
    const bob = await signIn("bob");
    const bobCurrent = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie: bob.jar.header() } });
    expect(await bobCurrent.json()).toMatchObject({ username: "bob", sysadmin_flag: false });
    const listed = await fetch(`${berth.url}/api/v2.0/users?q=username%3Dbob`, { headers: { authorization: ADMIN_AUTH } });
    expect(await listed.json()).toEqual([expect.objectContaining({ username: "bob" })]);
  });

  // The rows are read through a connection of the test's own: an embedded PGlite is held by the server's process.
  testIf(testPostgresUrl() !== undefined, "BERTH_TEST_DATABASE_URL (PostgreSQL) to read the stored link")("keeps the provider link and the refresh token, sealed", async () => {
    await signIn("alice");
    const database = new Client({ connectionString: berth.databaseUrl! });
    await database.connect();
    try {
      const { rows } = await database.query("SELECT u.username, o.subject, o.refresh_token FROM oidc_identities o JOIN users u ON u.id = o.user_id WHERE o.subject = 'alice'");
      expect(rows).toEqual([{ username: "alice", subject: "alice", refresh_token: expect.stringMatching(/^enc:v1:./) }]);
    } finally {
      await database.end();
    }
  });

  it("signs a returning user in as the same user", async () => {
    const first = await signIn("bob");
    const second = await signIn("bob");
    const ids = await Promise.all(
      [first, second].map(async ({ jar }) => ((await (await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie: jar.header() } })).json()) as { user_id: number }).user_id),
    );
    expect(ids[0]).toBe(ids[1]);
  });

  it("gives the session the project roles of the user's OIDC groups", async () => {
    const admin = (method: string, url: string, body: unknown) =>
      fetch(`${berth.url}${url}`, { method, headers: { authorization: ADMIN_AUTH, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await admin("POST", "/api/v2.0/projects", { project_name: "devs-only", metadata: { public: "false" } })).status).toBe(201);
    const member = await admin("POST", "/api/v2.0/projects/devs-only/members", { role_id: 2, member_group: { group_name: "devs", group_type: 3 } });
    expect(member.status).toBe(201);
    // bob is in "devs" at the provider, carol only in "ops".
    const bob = await signIn("bob");
    const carol = await signIn("carol");
    const project = (jar: CookieJar) => fetch(`${berth.url}/api/v2.0/projects/devs-only`, { headers: { cookie: jar.header() } });
    expect((await project(bob.jar)).status).toBe(200);
    expect((await project(carol.jar)).status).not.toBe(200);
  });

  it("refuses a provider account named after an existing local user", async () => {
    const { response } = await signIn("mallory");
    expect(response?.status).toBe(403);
    expect(JSON.stringify(await response?.json())).toContain("already taken");
  });

  it("refuses a callback whose state does not match the browser's sign-in", async () => {
    const jar = new CookieJar();
    // Stop on the way back: the callback URL carries the code and state the provider issued.
    const { url } = await browse(jar, `${berth.url}/c/oidc/login`, { login: "bob", stopAt: (at) => at.pathname === "/c/oidc/callback" });
    const tampered = new URL(url);
    tampered.searchParams.set("state", "not-the-state");
    const refused = await fetch(tampered, { redirect: "manual", headers: { cookie: jar.header() } });
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toContain("state");
    expect(refused.headers.getSetCookie().join("\n")).not.toMatch(/^sid=./m);
  });

  it("refuses an ID token whose nonce is not the one this sign-in sent", async () => {
    const jar = new CookieJar();
    const { url } = await browse(jar, `${berth.url}/c/oidc/login`, { login: "bob", stopAt: (at) => at.pathname === "/c/oidc/callback" });
    // Only the server's key opens the pending sign-in: the test reads the shared key file to alter the nonce alone.
    const box = readSecretBox(path.join(berth.dataDir, "shared-secretkey"));
    const cookie = jar.header().split("; ").find((pair) => pair.startsWith(`${LOGIN_STATE_COOKIE}=`))!;
    const pending = openLoginState(box, cookie.slice(LOGIN_STATE_COOKIE.length + 1))!;
    const forged = `${LOGIN_STATE_COOKIE}=${sealLoginState(box, { ...pending, nonce: "another-nonce" })}`;
    const refused = await fetch(url, { redirect: "manual", headers: { cookie: forged } });
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toContain("nonce");
  });

  it("refuses a callback without the sign-in cookie (another browser's code)", async () => {
    const jar = new CookieJar();
    const { url } = await browse(jar, `${berth.url}/c/oidc/login`, { login: "bob", stopAt: (at) => at.pathname === "/c/oidc/callback" });
    const refused = await fetch(url, { redirect: "manual" });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain("no sign-in is in progress");
    // A browser's page load is sent back to the sign-in page with the reason's code, and no session.
    const page = await fetch(url, { redirect: "manual", headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/ui/?sso_error=expired");
    expect(page.headers.getSetCookie().join("\n")).not.toMatch(/^sid=./m);
  });
});
