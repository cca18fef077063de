import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient, type CreatedRobot } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let alice: RegistryClient;
let projectId: number;
const PASSWORD = "Alice-Passw0rd";

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

const projectRobot = (name: string, project: string, access: [string, string][]) => ({
  name,
  level: "project",
  duration: -1,
  permissions: [{ kind: "project", namespace: project, access: access.map(([resource, action]) => ({ resource, action })) }],
});

const PUSHER: [string, string][] = [
  ["repository", "pull"],
  ["repository", "push"],
];

const as = (robot: CreatedRobot) => new RegistryClient(berth.url, basicAuth(robot.name, robot.secret));

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("dev-team", { public: false });
  await admin.createProject("other", { public: false });
  projectId = ((await (await admin.fetch("/api/v2.0/projects/dev-team")).json()) as { project_id: number }).project_id;
  await admin.createUser("alice", PASSWORD);
  await admin.createUser("bob", PASSWORD);
  await admin.addMember("dev-team", "alice", 1);
  await admin.addMember("dev-team", "bob", 2);
  alice = new RegistryClient(berth.url, basicAuth("alice", PASSWORD));
});
afterAll(() => berth.close());

describe("robot accounts: create and read", () => {
  it("lets a project admin create a project robot; the secret is returned once and meets the password rule", async () => {
    const response = await alice.fetch("/api/v2.0/robots", json("POST", { ...projectRobot("ci", "dev-team", PUSHER), description: "CI pusher" }));
    expect(response.status).toBe(201);
    const created = (await response.json()) as CreatedRobot;
    expect(response.headers.get("location")).toBe(`/api/v2.0/robots/${created.id}`);
    expect(created.name).toBe("robot$dev-team+ci");
    expect(created.secret).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d).{32}$/);
    expect(created.expires_at).toBe(-1);

    const read = (await (await alice.fetch(`/api/v2.0/robots/${created.id}`)).json()) as Record<string, unknown>;
    expect(read).toMatchObject({
      name: "robot$dev-team+ci",
      secret: "",
      level: "project",
      description: "CI pusher",
      disable: false,
      creator_type: "local",
      permissions: [{ kind: "project", namespace: "dev-team", access: [{ resource: "repository", action: "pull" }, { resource: "repository", action: "push" }] }],
    });
    expect(JSON.stringify(read)).not.toContain(created.secret);
  });

  it("computes expires_at from the duration in days", async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await admin.createRobot({ ...projectRobot("short", "dev-team", PUSHER), duration: 7 });
    expect(created.expires_at).toBeGreaterThanOrEqual(before + 7 * 86400);
    expect(created.expires_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 7 * 86400);
  });

  it("refuses a duplicate name with 409", async () => {
    await admin.createRobot(projectRobot("twice", "dev-team", PUSHER));
    const response = await admin.fetch("/api/v2.0/robots", json("POST", projectRobot("twice", "dev-team", PUSHER)));
    expect(response.status).toBe(409);
  });

  it.each([
    ["a name with +", { ...projectRobot("a+b", "dev-team", PUSHER) }, /name must be/],
    ["an unknown level", { ...projectRobot("x1", "dev-team", PUSHER), level: "global" }, /level/],
    ["a permission outside the catalogue", projectRobot("x2", "dev-team", [["repository", "fly"]]), /bad request permission: repository:fly/],
    ["tag-retention operate (not grantable)", projectRobot("x3", "dev-team", [["tag-retention", "operate"]]), /tag-retention:operate/],
    ["a zero duration", { ...projectRobot("x4", "dev-team", PUSHER), duration: 0 }, /duration/],
    ["no permissions", { ...projectRobot("x5", "dev-team", PUSHER), permissions: [] }, /permissions/],
    [
      "a project robot with two namespaces",
      { ...projectRobot("x6", "dev-team", PUSHER), permissions: [...projectRobot("x", "dev-team", PUSHER).permissions, ...projectRobot("x", "other", PUSHER).permissions] },
      /exactly one permission/,
    ],
    ["a system permission off /", { name: "x7", level: "system", permissions: [{ kind: "system", namespace: "x", access: [{ resource: "project", action: "create" }] }] }, /namespace "\/"/],
  ])("refuses %s with 400 and the Harbor envelope", async (_label, body, message) => {
    const response = await admin.fetch("/api/v2.0/robots", json("POST", body));
    expect(response.status).toBe(400);
    const { errors } = (await response.json()) as { errors: { code: string; message: string }[] };
    expect(errors[0].code).toBe("BAD_REQUEST");
    expect(errors[0].message).toMatch(message);
  });

  it("refuses robot creation to a developer (403), anonymous callers (401) and outsiders without telling whether the project exists", async () => {
    const bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
    expect((await bob.fetch("/api/v2.0/robots", json("POST", projectRobot("b", "dev-team", PUSHER)))).status).toBe(403);
    expect((await fetch(`${berth.url}/api/v2.0/robots`, json("POST", projectRobot("b", "dev-team", PUSHER)))).status).toBe(401);
    expect((await alice.fetch("/api/v2.0/robots", json("POST", projectRobot("b", "other", PUSHER)))).status).toBe(403);
    expect((await alice.fetch("/api/v2.0/robots", json("POST", projectRobot("b", "no-such-project", PUSHER)))).status).toBe(403);
    expect((await admin.fetch("/api/v2.0/robots", json("POST", projectRobot("b", "no-such-project", PUSHER)))).status).toBe(400);
  });

  it("lets only system admins create system robots", async () => {
    const body = { name: "ops", level: "system", permissions: [{ kind: "system", namespace: "/", access: [{ resource: "project", action: "create" }] }] };
    expect((await alice.fetch("/api/v2.0/robots", json("POST", body))).status).toBe(403);
    expect((await admin.fetch("/api/v2.0/robots", json("POST", body))).status).toBe(201);
  });

  it("answers a caller who may not see a robot the same whether its id exists or not; system admins get 404", async () => {
    const hidden = await admin.createRobot(projectRobot("hidden", "other", PUSHER));
    const bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
    const missing = 999_999;
    for (const client of [alice, bob]) {
      for (const [method, body] of [["GET"], ["PUT", { name: "x", level: "project" }], ["PATCH", {}], ["DELETE"]] as const) {
        const init = body ? json(method, body) : { method };
        const existing = await client.fetch(`/api/v2.0/robots/${hidden.id}`, init);
        const absent = await client.fetch(`/api/v2.0/robots/${missing}`, init);
        expect(existing.status).toBe(403);
        expect(absent.status).toBe(403);
        expect((await absent.text()).replace(String(missing), "ID")).toBe((await existing.text()).replace(String(hidden.id), "ID"));
      }
    }
    expect((await admin.fetch(`/api/v2.0/robots/${missing}`)).status).toBe(404);
    expect((await admin.fetch(`/api/v2.0/robots/${hidden.id}`)).status).toBe(200);
  });

  it("lists project robots by ProjectID to members who may list robots, system robots to admins", async () => {
    const listed = await alice.fetch(`/api/v2.0/robots?q=Level=project,ProjectID=${projectId}`);
    expect(listed.status).toBe(200);
    const names = ((await listed.json()) as { name: string; secret: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["robot$dev-team+ci", "robot$dev-team+twice"]));
    expect(Number(listed.headers.get("x-total-count"))).toBe(names.length);
    const bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
    expect((await bob.fetch(`/api/v2.0/robots?q=Level=project,ProjectID=${projectId}`)).status).toBe(200);
    expect((await alice.fetch("/api/v2.0/robots")).status).toBe(403);
    expect((await alice.fetch("/api/v2.0/robots?q=Level=project")).status).toBe(400);
    const system = ((await (await admin.fetch("/api/v2.0/robots?q=Level=system")).json()) as { name: string }[]).map((r) => r.name);
    expect(system).toContain("robot$ops");
    expect(system).not.toContain("robot$dev-team+ci");
  });

  it("publishes the permission catalogue", async () => {
    const catalogue = (await (await admin.fetch("/api/v2.0/permissions")).json()) as { system: unknown[]; project: unknown[] };
    expect(catalogue.project).toContainEqual({ resource: "repository", action: "push" });
    expect(catalogue.system).toContainEqual({ resource: "project", action: "create" });
    const forAlice = (await (await alice.fetch("/api/v2.0/permissions")).json()) as { system: unknown[] };
    expect(forAlice.system).toEqual([]);
  });
});

describe("robot accounts: logging in", () => {
  let ci: CreatedRobot;
  beforeAll(async () => {
    ci = await admin.createRobot(projectRobot("pusher", "dev-team", PUSHER));
  });

  it("pushes and pulls with Basic auth on /v2 but may not delete or touch other projects", async () => {
    const robot = as(ci);
    const image = await robot.pushImage("dev-team/app", "v1");
    expect((await robot.fetch(`/v2/dev-team/app/manifests/v1`)).status).toBe(200);
    const deleted = await robot.fetch(`/v2/dev-team/app/manifests/${image.manifestDigest}`, { method: "DELETE" });
    expect(deleted.status).toBe(403);
    expect(((await deleted.json()) as { errors: { code: string }[] }).errors[0].code).toBe("DENIED");
    expect((await robot.fetch("/v2/other/app/tags/list")).status).toBe(403);
  });

  it("gets a token with exactly its grants through /service/token", async () => {
    const response = await as(ci).fetch("/service/token?service=berth&scope=repository:dev-team/app:pull,push,delete");
    const { token } = (await response.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { sub: string; access: { actions: string[] }[] };
    expect(claims.sub).toBe("robot$dev-team+pusher");
    expect(claims.access[0].actions.sort()).toEqual(["pull", "push"]);
    const tags = await fetch(`${berth.url}/v2/dev-team/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
    expect(tags.status).toBe(200);
  });

  it("sees the projects it holds grants in, and logs under its own name in the audit trail", async () => {
    const names = ((await (await as(ci).fetch("/api/v2.0/projects")).json()) as { name: string }[]).map((p) => p.name);
    expect(names).toContain("dev-team");
    expect(names).not.toContain("other");
    const logs = (await (await admin.fetch(`/api/v2.0/audit-logs?q=${encodeURIComponent("username=robot$dev-team+pusher")}&page_size=100`)).json()) as { operation: string }[];
    expect(logs.map((l) => l.operation)).toContain("create");
  });

  it("refuses a wrong secret with 401 and the Bearer challenge on /v2", async () => {
    const response = await fetch(`${berth.url}/v2/dev-team/app/tags/list`, { headers: { Authorization: basicAuth(ci.name, "Wrong-Secret-1") } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
  });

  it("stops working at once when disabled, and works again when enabled", async () => {
    const robot = await admin.createRobot(projectRobot("toggle", "dev-team", PUSHER));
    expect((await as(robot).fetch("/v2/dev-team/app/tags/list")).status).toBe(200);
    const body = { name: robot.name, level: "project", disable: true };
    expect((await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PUT", body))).status).toBe(200);
    const refused = await as(robot).fetch("/v2/dev-team/app/tags/list");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/disabled/);
    expect((await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PUT", { ...body, disable: false }))).status).toBe(200);
    expect((await as(robot).fetch("/v2/dev-team/app/tags/list")).status).toBe(200);
  });

  it("refreshes a secret: the old one stops working, a chosen one must meet the rule", async () => {
    const robot = await admin.createRobot(projectRobot("rotate", "dev-team", PUSHER));
    expect((await as(robot).fetch("/v2/dev-team/app/tags/list")).status).toBe(200);
    const refreshed = await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PATCH", {}));
    const { secret } = (await refreshed.json()) as { secret: string };
    expect(secret).not.toBe(robot.secret);
    expect((await as(robot).fetch("/v2/dev-team/app/tags/list")).status).toBe(401);
    expect((await as({ ...robot, secret }).fetch("/v2/dev-team/app/tags/list")).status).toBe(200);

    expect((await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PATCH", { secret: "weak" }))).status).toBe(400);
    const chosen = await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PATCH", { secret: "Chosen-Secret-42" }));
    expect(await chosen.json()).toEqual({ secret: "" });
    expect((await as({ ...robot, secret: "Chosen-Secret-42" }).fetch("/v2/dev-team/app/tags/list")).status).toBe(200);
  });

  it("replaces permissions on PUT and keeps the robot in its project", async () => {
    const robot = await admin.createRobot(projectRobot("grow", "dev-team", [["repository", "pull"]]));
    const deleteToo = projectRobot("grow", "dev-team", [...PUSHER, ["repository", "delete"]]);
    const put = await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PUT", { ...deleteToo, name: robot.name }));
    expect(put.status).toBe(200);
    const image = await as(robot).pushImage("dev-team/grow", "v1");
    expect((await as(robot).fetch(`/v2/dev-team/grow/manifests/${image.manifestDigest}`, { method: "DELETE" })).status).toBe(202);

    const moved = await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PUT", { ...projectRobot("grow", "other", PUSHER), name: robot.name }));
    expect(moved.status).toBe(400);
    const renamed = await admin.fetch(`/api/v2.0/robots/${robot.id}`, json("PUT", { ...deleteToo, name: "robot$grow" }));
    expect(renamed.status).toBe(400);
  });

  it("cannot log in once deleted; the deletion is audited", async () => {
    const robot = await admin.createRobot(projectRobot("gone", "dev-team", PUSHER));
    expect((await alice.fetch(`/api/v2.0/robots/${robot.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await as(robot).fetch("/v2/dev-team/app/tags/list")).status).toBe(401);
    expect((await admin.fetch(`/api/v2.0/robots/${robot.id}`)).status).toBe(404);
    const logs = (await (await admin.fetch(`/api/v2.0/audit-logs?q=${encodeURIComponent("resource=robot$dev-team+gone")}`)).json()) as { operation: string; username: string }[];
    expect(logs.map((l) => `${l.operation} by ${l.username}`).sort()).toEqual(["create by admin", "delete by alice"]);
  });
});

describe("system robots", () => {
  let ops: CreatedRobot;
  beforeAll(async () => {
    ops = await admin.createRobot({
      name: "platform",
      level: "system",
      duration: -1,
      permissions: [
        { kind: "system", namespace: "/", access: [{ resource: "project", action: "create" }, { resource: "robot", action: "create" }] },
        { kind: "project", namespace: "*", access: [{ resource: "repository", action: "pull" }, { resource: "repository", action: "push" }] },
      ],
    });
  });

  it("creates projects and pushes to any project through the * namespace", async () => {
    const robot = as(ops);
    expect((await robot.fetch("/api/v2.0/projects", json("POST", { project_name: "made-by-robot" }))).status).toBe(201);
    // A robot owns nothing: the first system admin becomes owner and project admin, as in Harbor.
    const made = (await (await admin.fetch("/api/v2.0/projects/made-by-robot/members")).json()) as { entity_name: string; role_id: number }[];
    expect(made).toEqual([expect.objectContaining({ entity_name: "admin", role_id: 1 })]);
    await robot.pushImage("other/app", "v1");
    expect((await robot.fetch("/v2/other/app/tags/list")).status).toBe(200);
  });

  it("may create a robot only with grants it holds itself", async () => {
    const robot = as(ops);
    const within = await robot.fetch("/api/v2.0/robots", json("POST", projectRobot("sub", "other", [["repository", "pull"]])));
    // robot:create is a system grant; creating a project robot needs robot:create in that project.
    expect(within.status).toBe(403);
    const system = { name: "sub", level: "system", permissions: [{ kind: "system", namespace: "/", access: [{ resource: "user", action: "create" }] }] };
    const escalated = await robot.fetch("/api/v2.0/robots", json("POST", system));
    expect(escalated.status).toBe(403);
    expect(((await escalated.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/permission scope is invalid/);
    const subset = { ...system, permissions: [{ kind: "project", namespace: "*", access: [{ resource: "repository", action: "pull" }] }] };
    expect((await robot.fetch("/api/v2.0/robots", json("POST", subset))).status).toBe(201);
  });

  it("is removed with its project's grants when a project is deleted; project robots go with the project", async () => {
    await admin.createProject("short-lived", { public: false });
    const local = await admin.createRobot(projectRobot("ci", "short-lived", PUSHER));
    expect((await admin.fetch("/api/v2.0/projects/short-lived", { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/robots/${local.id}`)).status).toBe(404);
  });
});
