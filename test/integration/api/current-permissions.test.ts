/**
 * GET /api/v2.0/users/current/permissions: what a client (the web UI) asks before offering an action. For every
 * role the answer must be exactly Harbor's role table (HARBOR-MODEL §3.4, with Berth's one difference: developers
 * only read tag retention), written out here by hand; system admins get the whole project namespace and no pair
 * outside it; robots exactly their grants; outsiders what a public project grants everyone; and the /system scope.
 */
import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
const ids: Record<string, number> = {};
const PASSWORD = "Perm-Passw0rd-1";
const LETTERS: Record<string, string> = { C: "create", R: "read", U: "update", D: "delete", L: "list", O: "operate", S: "stop", P: "pull", W: "push" };

// Columns: projectAdmin, maintainer, developer, guest, limitedGuest. "" is the project itself (relative: ".").
const TABLE: Record<string, [string, string, string, string, string]> = {
  ".":                   ["RUD",     "R",       "R",      "R",   "R"],
  member:                ["CRUDL",   "RL",      "RL",     "RL",  ""],
  metadata:              ["CRUD",    "R",       "",       "",    ""],
  log:                   ["L",       "",        "",       "",    ""],
  label:                 ["CRUDL",   "CRUDL",   "RL",     "RL",  ""],
  quota:                 ["R",       "R",       "R",      "R",   "R"],
  repository:            ["CRUDLPW", "CRUDLPW", "CRULPW", "RLP", "RLP"],
  artifact:              ["CRDL",    "CRDL",    "CRL",    "RL",  "RL"],
  tag:                   ["CDL",     "CDL",     "CL",     "L",   "L"],
  "artifact-label":      ["CD",      "CD",      "CD",     "",    ""],
  "artifact-addition":   ["R",       "R",       "R",      "R",   "R"],
  accessory:             ["L",       "L",       "L",      "L",   "L"],
  "tag-retention":       ["CRUDLO",  "CRUDLO",  "RL",     "",    ""],
  "immutable-tag":       ["CUDL",    "CUDL",    "",       "",    ""],
  configuration:         ["RU",      "R",       "R",      "R",   "R"],
  robot:                 ["CRUDL",   "RL",      "RL",     "RL",  ""],
  "notification-policy": ["CRUDL",   "RL",      "",       "",    ""],
  scan:                  ["CRS",     "CRS",     "R",      "R",   "R"],
  sbom:                  ["CRS",     "CRS",     "R",      "R",   "R"],
  scanner:               ["CR",      "R",       "R",      "R",   "R"],
  "preheat-policy":      ["CRUDL",   "",        "",       "",    ""],
  "export-cve":          ["CRL",     "CRL",     "CRL",    "",    ""],
};
const ROLES = [["projectAdmin", 1], ["maintainer", 4], ["developer", 2], ["guest", 3], ["limitedGuest", 5]] as const;
const PUBLIC = { ".": "R", label: "RL", repository: "LP", scan: "R", scanner: "R", tag: "L", artifact: "RL", "artifact-addition": "R", accessory: "L" };

const pairs = (column: Record<string, string>) =>
  Object.entries(column)
    .flatMap(([resource, letters]) => [...letters].map((letter) => `${resource}:${LETTERS[letter]}`))
    .sort();
const columnOf = (index: number) => Object.fromEntries(Object.entries(TABLE).map(([resource, row]) => [resource, row[index]]));
const as = (user: string) => new RegistryClient(berth.url, basicAuth(user, PASSWORD));

async function permissions(client: RegistryClient, scope: string, relative = true): Promise<string[]> {
  const response = await client.fetch(`/api/v2.0/users/current/permissions?scope=${scope}&relative=${relative}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { resource: string; action: string }[]).map((p) => `${p.resource}:${p.action}`).sort();
}

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  for (const [name, isPublic] of [["priv", false], ["pub", true]] as const) {
    await admin.createProject(name, { public: isPublic });
    ids[name] = ((await (await admin.fetch(`/api/v2.0/projects/${name}`)).json()) as { project_id: number }).project_id;
  }
  await admin.createUser("outsider", PASSWORD);
  for (const [role, roleId] of ROLES) {
    await admin.createUser(role.toLowerCase(), PASSWORD);
    await admin.addMember("priv", role.toLowerCase(), roleId);
  }
});
afterAll(() => berth.close());

describe("project scope", () => {
  it.each(ROLES.map(([role], index) => ({ role, index })))("a $role holds exactly the role's row of the table", async ({ role, index }) => {
    expect(await permissions(as(role.toLowerCase()), `/project/${ids.priv}`)).toEqual(pairs(columnOf(index)));
  });

  it("a system admin holds the whole project namespace, and nothing outside it (no member:push)", async () => {
    const all = Object.fromEntries(Object.entries(TABLE).map(([resource, row]) => [resource, [...new Set(row.join(""))].join("")]));
    expect(await permissions(admin, `/project/${ids.priv}`)).toEqual(pairs(all));
  });

  it("an outsider holds what a public project grants everyone, and nothing in a private one", async () => {
    expect(await permissions(as("outsider"), `/project/${ids.pub}`)).toEqual(pairs(PUBLIC));
    expect(await permissions(as("outsider"), `/project/${ids.priv}`)).toEqual([]);
    expect(await permissions(as("outsider"), "/project/999999")).toEqual([]);
  });

  it("a robot holds exactly its grants", async () => {
    const access = ["repository:pull", "repository:push", "artifact:list", "tag-retention:read"].map((g) => ({ resource: g.split(":")[0], action: g.split(":")[1] }));
    const robot = await admin.createRobot({ name: "ci", level: "project", duration: -1, permissions: [{ kind: "project", namespace: "priv", access }] });
    const client = new RegistryClient(berth.url, basicAuth(robot.name, robot.secret));
    expect(await permissions(client, `/project/${ids.priv}`)).toEqual(["artifact:list", "repository:pull", "repository:push", "tag-retention:read"]);
  });

  it("names resources absolutely unless relative=true", async () => {
    const absolute = await permissions(as("limitedguest"), `/project/${ids.priv}`, false);
    expect(absolute).toContain(`/project/${ids.priv}:read`);
    expect(absolute).toContain(`/project/${ids.priv}/repository:pull`);
  });
});

describe("system scope", () => {
  it("a system admin holds every system policy, project creation included", async () => {
    const held = await permissions(admin, "/system");
    expect(held).toEqual(expect.arrayContaining(["project:create", "registry:list", "replication-policy:create", "garbage-collection:read", "audit-log:list", "user:update", "scanner:read"]));
    expect(held.length).toBeGreaterThan(60);
    expect(await permissions(admin, "/system", false)).toContain("/system/registry:list");
  });

  it("a user holds project creation only while project_creation_restriction lets everyone create", async () => {
    expect(await permissions(as("outsider"), "/system")).toEqual(["project:create"]);
    const restricted = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: "adminonly" } });
    try {
      const created = await new RegistryClient(restricted.url).createUser("someone", PASSWORD);
      expect(created).toBeGreaterThan(0);
      const response = await new RegistryClient(restricted.url, basicAuth("someone", PASSWORD)).fetch("/api/v2.0/users/current/permissions?scope=/system");
      expect(await response.json()).toEqual([]);
    } finally {
      await restricted.close();
    }
  });

  it("a system robot holds exactly its system grants", async () => {
    const access = [{ resource: "registry", action: "list" }, { resource: "registry", action: "read" }];
    const robot = await admin.createRobot({ name: "registry-reader", level: "system", duration: -1, permissions: [{ kind: "system", namespace: "/", access }] });
    const client = new RegistryClient(berth.url, basicAuth(robot.name, robot.secret));
    expect(await permissions(client, "/system")).toEqual(["registry:list", "registry:read"]);
  });

  it("asks for a login and a scope it knows", async () => {
    expect((await new RegistryClient(berth.url, null).fetch(`/api/v2.0/users/current/permissions?scope=/project/${ids.pub}`)).status).toBe(401);
    expect((await admin.fetch("/api/v2.0/users/current/permissions?scope=/elsewhere")).status).toBe(400);
  });
});
