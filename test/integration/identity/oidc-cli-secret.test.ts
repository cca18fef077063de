/**
 * The CLI secret of OIDC users (issue 19) against a real provider (oidc-provider, test/support/oidc-idp.mjs), with
 * skopeo and podman: the user signs in through /c/oidc/login, generates a secret, and pushes with it where their
 * provider group holds a role; the secret counts only while their session refreshes at the provider.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildLayer, writeImage } from "../../support/oci-image";
import { ADMIN_AUTH, ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { oidcModeEnv, signInThroughIdp, startIdp, type CookieJar, type TestIdp } from "../../support/oidc";
import { Podman } from "../../support/podman";
import { copy } from "../../support/skopeo";
import { describeWithTool, findTool, testIf } from "../../support/tools";

// Short, so the test sees a disabled user refused without waiting a minute; the 30 s login cache honours it too.
const CHECK_SECONDS = 1;
const pastTheCheckWindow = () => new Promise((resolve) => setTimeout(resolve, CHECK_SECONDS * 1000 + 300));
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;

describeWithTool("skopeo", "CLI secrets of OIDC users (BERTH_AUTH_MODE=oidc)", () => {
  let idp: TestIdp;
  let berth: TestBerth;
  let work: string;
  let layout: string;

  const admin = (method: string, url: string, body?: unknown) =>
    fetch(`${berth.url}${url}`, {
      method,
      headers: { authorization: ADMIN_AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** A request with the UI session of `jar`; writes carry the session's CSRF token, as the web UI sends it. */
  async function asSession(jar: CookieJar, method: string, url: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { cookie: jar.header(), ...(body === undefined ? {} : { "content-type": "application/json" }) };
    if (method !== "GET") {
      const current = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { cookie: jar.header() } });
      headers["x-harbor-csrf-token"] = current.headers.get("x-harbor-csrf-token")!;
    }
    return fetch(`${berth.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async function currentUser(jar: CookieJar) {
    return (await (await asSession(jar, "GET", "/api/v2.0/users/current")).json()) as {
      user_id: number;
      username: string;
      oidc_user_meta?: { subiss: string; cli_secret_created: string | null };
    };
  }

  /** Signs `login` in through the provider and generates their CLI secret from that web session. */
  async function secretOf(login: string): Promise<{ id: number; secret: string }> {
    const { jar } = await signInThroughIdp(berth.url, login);
    const { user_id: id } = await currentUser(jar);
    const generated = await asSession(jar, "POST", `/api/v2.0/users/${id}/cli_secret`);
    expect(generated.status).toBe(201);
    return { id, secret: ((await generated.json()) as { secret: string }).secret };
  }

  const push = (project: string, tag: string, creds: string) => copy(`oci:${layout}:1`, `docker://${berth.host}/${project}/app:${tag}`, { destCreds: creds });
  const pushStatus = (auth: string) => fetch(`${berth.url}/v2/devs-push/app/blobs/uploads/`, { method: "POST", headers: { authorization: auth } });

  beforeAll(async () => {
    idp = await startIdp();
    // Lower case only: podman names an image pulled from an oci: layout after its path.
    work = path.join(tmpdir(), `berth-oidc-cli-${randomBytes(6).toString("hex")}`);
    await mkdir(work);
    berth = await startBerth({ env: { ...(await oidcModeEnv(idp, work)), BERTH_OIDC_REFRESH_CHECK_SECONDS: String(CHECK_SECONDS) } });
    await idp.configure(`${berth.url}/c/oidc/callback`);
    // bob is in the provider's group "devs", carol only in "ops": devs are developers of devs-push, guests of devs-guest.
    for (const [project, role] of [["devs-push", 2], ["devs-guest", 3]] as const) {
      expect((await admin("POST", "/api/v2.0/projects", { project_name: project, metadata: { public: "false" } })).status).toBe(201);
      expect((await admin("POST", `/api/v2.0/projects/${project}/members`, { role_id: role, member_group: { group_name: "devs", group_type: 3 } })).status).toBe(201);
    }
    layout = path.join(work, "layout");
    await writeImage(layout, { tag: "1", layers: [await buildLayer({ "hello.txt": "pushed with a CLI secret" })] });
  });

  afterAll(async () => {
    await berth?.close();
    idp?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("shows the provider link in /users/current, never a secret, and when the secret was made", async () => {
    const { jar } = await signInThroughIdp(berth.url, "bob");
    const before = await currentUser(jar);
    expect(before.oidc_user_meta).toEqual({ subiss: `bob${idp.issuer}`, cli_secret_created: null });
    const generated = await asSession(jar, "POST", `/api/v2.0/users/${before.user_id}/cli_secret`);
    expect(generated.headers.get("cache-control")).toBe("no-store");
    const { secret } = (await generated.json()) as { secret: string };
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const after = await currentUser(jar);
    expect(after.oidc_user_meta?.cli_secret_created).toEqual(expect.any(String));
    expect(JSON.stringify(after)).not.toContain(secret);
  });

  it("pushes with skopeo where the user's provider group is a developer, and is refused where it is a guest", async () => {
    const { secret } = await secretOf("bob");
    await push("devs-push", "skopeo", `bob:${secret}`);
    const tags = await admin("GET", "/v2/devs-push/app/tags/list");
    expect(((await tags.json()) as { tags: string[] }).tags).toContain("skopeo");
    await expect(push("devs-guest", "skopeo", `bob:${secret}`)).rejects.toThrow(/denied|unauthorized|403/i);
    // carol (group "ops") has no role in devs-push: her own valid secret does not open it.
    const carol = await secretOf("carol");
    await expect(push("devs-push", "carol", `carol:${carol.secret}`)).rejects.toThrow(/denied|unauthorized|403|401/i);
  });

  it("answers projects with the roles the user holds through the group too, the highest as current_user_role_id", async () => {
    const { secret } = await secretOf("bob");
    // devs-mixed: bob himself is a guest, his group "devs" a maintainer.
    expect((await admin("POST", "/api/v2.0/projects", { project_name: "devs-mixed", metadata: { public: "false" } })).status).toBe(201);
    expect((await admin("POST", "/api/v2.0/projects/devs-mixed/members", { role_id: 3, member_user: { username: "bob" } })).status).toBe(201);
    expect((await admin("POST", "/api/v2.0/projects/devs-mixed/members", { role_id: 4, member_group: { group_name: "devs", group_type: 3 } })).status).toBe(201);
    const asBob = async (url: string) => (await fetch(`${berth.url}${url}`, { headers: { authorization: basic("bob", secret) } })).json();
    expect(await asBob("/api/v2.0/projects/devs-push")).toMatchObject({ current_user_role_id: 2, current_user_role_ids: [2] });
    expect(await asBob("/api/v2.0/projects/devs-mixed")).toMatchObject({ current_user_role_id: 4, current_user_role_ids: [4, 3] });
    const listed = (await asBob("/api/v2.0/projects?name=devs-mixed")) as { current_user_role_id: number; current_user_role_ids: number[] }[];
    expect(listed).toEqual([expect.objectContaining({ current_user_role_id: 4, current_user_role_ids: [4, 3] })]);
    const id = ((await asBob("/api/v2.0/projects/devs-mixed")) as { project_id: number }).project_id;
    const permissions = (await asBob(`/api/v2.0/users/current/permissions?scope=/project/${id}&relative=true`)) as { resource: string; action: string }[];
    // A maintainer may delete artifacts; a guest may not.
    expect(permissions).toContainEqual({ resource: "artifact", action: "delete" });
  });

  it("replaces the secret: a chosen one (password rule) or a new random one, the old one stops at once; audited without it", async () => {
    const { jar } = await signInThroughIdp(berth.url, "bob");
    const { user_id: id } = await currentUser(jar);
    const first = ((await (await asSession(jar, "POST", `/api/v2.0/users/${id}/cli_secret`)).json()) as { secret: string }).secret;
    expect((await pushStatus(basic("bob", first))).status).toBe(202);
    expect((await asSession(jar, "PUT", `/api/v2.0/users/${id}/cli_secret`, { secret: "short" })).status).toBe(400);
    expect((await asSession(jar, "PUT", `/api/v2.0/users/${id}/cli_secret`, { secret: "Chosen-Secret-42" })).status).toBe(200);
    expect((await pushStatus(basic("bob", first))).status).toBe(401);
    expect((await pushStatus(basic("bob", "Chosen-Secret-42"))).status).toBe(202);
    const logs = (await (await admin("GET", "/api/v2.0/audit-logs?q=resource_type=user")).json()) as { operation_description: string; username: string }[];
    const descriptions = logs.map((log) => log.operation_description);
    expect(descriptions).toEqual(expect.arrayContaining(["set CLI secret of bob", "generate CLI secret of bob"]));
    expect(JSON.stringify(logs)).not.toContain(first);
    expect(JSON.stringify(logs)).not.toContain("Chosen-Secret-42");
  });

  it("lets only the user (or a system admin) set it, and only for users linked to the provider (412 otherwise)", async () => {
    const bob = await secretOf("bob");
    const carol = await signInThroughIdp(berth.url, "carol");
    expect((await asSession(carol.jar, "POST", `/api/v2.0/users/${bob.id}/cli_secret`)).status).toBe(403);
    const byAdmin = await admin("POST", `/api/v2.0/users/${bob.id}/cli_secret`);
    expect(byAdmin.status).toBe(201);
    const forAdmin = await admin("POST", "/api/v2.0/users/1/cli_secret");
    expect(forAdmin.status).toBe(412);
    expect(await forAdmin.json()).toEqual({ errors: [{ code: "PRECONDITION", message: expect.stringContaining("not linked to the OIDC provider") }] });
  });

  it("keeps working across refreshes while the provider rotates the refresh token", async () => {
    const { secret } = await secretOf("bob");
    // Each login after the window refreshes; with rotation, the second one works only if the first stored the new token.
    for (let round = 0; round < 2; round++) {
      await pastTheCheckWindow();
      expect((await pushStatus(basic("bob", secret))).status).toBe(202);
    }
  });

  it("follows the provider's groups claim at each refresh: a user moved into a group gets its role without signing in again", async () => {
    const { secret } = await secretOf("carol");
    const carol = basic("carol", secret);
    expect((await pushStatus(carol)).status).toBe(403);
    await idp.setGroups("carol", ["ops", "devs"]);
    await pastTheCheckWindow();
    expect((await pushStatus(carol)).status).toBe(202);
    await idp.setGroups("carol", ["ops"]);
    await pastTheCheckWindow();
    expect((await pushStatus(carol)).status).toBe(403);
  });

  it("refuses the password sign-in of the web UI to OIDC users, pointing at SSO, and Harbor's database-user calls", async () => {
    const form = (principal: string, password: string) =>
      fetch(`${berth.url}/c/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ principal, password }) });
    const refused = await form("bob", "Any-Passw0rd");
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).toContain("/c/oidc/login");
    expect((await form("admin", ADMIN_PASSWORD)).status).toBe(200);
    const created = await admin("POST", "/api/v2.0/users", { username: "local", password: "Local-Passw0rd", email: "l@example.test", realname: "l" });
    expect(created.status).toBe(403);
    expect(JSON.stringify(await created.json())).toContain("oidc_auth");
    const { id } = await secretOf("carol");
    expect((await admin("PUT", `/api/v2.0/users/${id}/password`, { new_password: "New-Passw0rd-1" })).status).toBe(403);
  });

  it("shows the OIDC settings in /configurations, read-only, without the client secret, and the mode in /systeminfo", async () => {
    const view = (await (await admin("GET", "/api/v2.0/configurations")).json()) as Record<string, { value: unknown; editable: boolean }>;
    expect(view).toMatchObject({
      auth_mode: { value: "oidc_auth", editable: false },
      oidc_endpoint: { value: idp.issuer, editable: false },
      oidc_client_id: { value: "berth", editable: false },
      oidc_scope: { value: "openid,profile,email,groups,offline_access", editable: false },
      oidc_groups_claim: { value: "groups", editable: false },
    });
    expect(JSON.stringify(view)).not.toContain("berth-client-secret");
    const systeminfo = await fetch(`${berth.url}/api/v2.0/systeminfo`);
    expect(await systeminfo.json()).toMatchObject({ auth_mode: "oidc_auth" });
  });

  describe("with podman", () => {
    const podmanPath = findTool("podman");
    let podman: Podman;
    let policy: string;
    let authfile: string;
    let imageId: string;
    beforeAll(async () => {
      if (!podmanPath) return;
      podman = await Podman.create(podmanPath);
      policy = path.join(work, "policy.json");
      authfile = path.join(work, "auth.json");
      await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
      imageId = await podman.run(["pull", "--quiet", "--signature-policy", policy, `oci:${layout}:1`]);
    });
    afterAll(() => podman?.remove());

    const podmanPush = (project: string, tag: string) =>
      podman.attempt(["push", "--tls-verify=false", "--authfile", authfile, "--signature-policy", policy, imageId, `docker://${berth.host}/${project}/app:${tag}`]);

    testIf(podmanPath !== null, "podman not found on PATH")("logs in with the CLI secret and pushes where the group allows, not where it is a guest", async () => {
      const { secret } = await secretOf("bob");
      const login = await podman.attempt(["login", "--tls-verify=false", "--authfile", authfile, "-u", "bob", "-p", secret, berth.host]);
      expect(login).toMatchObject({ code: 0 });
      expect(await podmanPush("devs-push", "podman")).toMatchObject({ code: 0 });
      const tags = await admin("GET", "/v2/devs-push/app/tags/list");
      expect(((await tags.json()) as { tags: string[] }).tags).toContain("podman");
      expect((await podmanPush("devs-guest", "podman")).code).not.toBe(0);
    });
  });

  // Last: bob is disabled at the provider for good.
  it("refuses a user disabled at the provider once the check window is over, on /v2 and /service/token", async () => {
    const { secret } = await secretOf("bob");
    expect((await pushStatus(basic("bob", secret))).status).toBe(202);
    await idp.disable("bob");
    await pastTheCheckWindow();
    const refused = await pushStatus(basic("bob", secret));
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toMatch(/refused to refresh the session \(invalid_grant/);
    await expect(push("devs-push", "disabled", `bob:${secret}`)).rejects.toThrow(/unauthorized|401/i);
    const token = await fetch(`${berth.url}/service/token?service=berth&scope=repository:devs-push/app:push`, { headers: { authorization: basic("bob", secret) } });
    expect(token.status).toBe(401);
    // The dead refresh token is forgotten: later tries are told to sign in again, without asking the provider.
    expect(JSON.stringify(await token.json())).toContain("there is no OIDC session");
  });

  it("refuses CLI secrets while the provider cannot be asked, saying so", async () => {
    const { secret } = await secretOf("carol");
    idp.stop();
    await pastTheCheckWindow();
    const refused = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { authorization: basic("carol", secret) } });
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).toMatch(/could not be asked to refresh the session.*try again later/);
    // The admin's local password still works.
    expect((await admin("GET", "/api/v2.0/users/current")).status).toBe(200);
  });
});
