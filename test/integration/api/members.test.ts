import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let projectId: number;
const PASSWORD = "Alice-Passw0rd";

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  // The seed's own commands, verbatim.
  const created = await admin.fetch("/api/v2.0/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"project_name": "dev-team","public": false}',
  });
  expect(created.status).toBe(201);
  projectId = Number(created.headers.get("location")!.split("/").pop());
  await admin.createUser("alice", PASSWORD);
  await admin.createUser("bob", PASSWORD);
});
afterAll(() => berth.close());

const json = (body: unknown): RequestInit => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe("project members API", () => {
  it("adds a member by username in the short form, on the numeric project id", async () => {
    const response = await admin.fetch(`/api/v2.0/projects/${projectId}/members`, { method: "POST", ...json({ role_id: 2, username: "alice" }) });
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toMatch(new RegExp(`^/api/v2.0/projects/${projectId}/members/\\d+$`));
  });

  it("adds a member with Harbor's member_user form, by name", async () => {
    const response = await admin.fetch("/api/v2.0/projects/dev-team/members", {
      method: "POST",
      ...json({ role_id: 3, member_user: { username: "bob" } }),
    });
    expect(response.status).toBe(201);
  });

  it("lists members with entity names and role names", async () => {
    const response = await admin.fetch("/api/v2.0/projects/dev-team/members");
    const members = (await response.json()) as { entity_name: string; role_name: string; entity_type: string }[];
    expect(members.map((m) => [m.entity_name, m.role_name, m.entity_type])).toEqual([
      ["admin", "projectAdmin", "u"],
      ["alice", "developer", "u"],
      ["bob", "guest", "u"],
    ]);
    expect(response.headers.get("x-total-count")).toBe("3");
  });

  it("refuses a duplicate with 409 and an unknown role with 400", async () => {
    expect((await admin.fetch("/api/v2.0/projects/dev-team/members", { method: "POST", ...json({ role_id: 2, username: "alice" }) })).status).toBe(409);
    const bad = await admin.fetch("/api/v2.0/projects/dev-team/members", { method: "POST", ...json({ role_id: 9, username: "bob" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("BAD_REQUEST");
  });

  it("answers 404 for a user that does not exist and 400 for a body naming nobody", async () => {
    expect((await admin.fetch("/api/v2.0/projects/dev-team/members", { method: "POST", ...json({ role_id: 2, username: "nobody" }) })).status).toBe(404);
    expect((await admin.fetch("/api/v2.0/projects/dev-team/members", { method: "POST", ...json({ role_id: 2 }) })).status).toBe(400);
  });

  it("lets alice (developer) push to dev-team but not delete", async () => {
    const alice = new RegistryClient(berth.url, basicAuth("alice", PASSWORD));
    const image = await alice.pushImage("dev-team/api", "v1");
    expect((await alice.fetch(`/v2/dev-team/api/manifests/${image.manifestDigest}`, { method: "DELETE" })).status).toBe(403);
    expect((await alice.fetch("/v2/dev-team/api/manifests/v1", { method: "DELETE" })).status).toBe(403);
    expect((await admin.fetch("/v2/dev-team/api/manifests/v1")).status).toBe(200);
  });

  it("changes a role with PUT, which takes effect at once", async () => {
    const members = (await (await admin.fetch("/api/v2.0/projects/dev-team/members?entityname=bob")).json()) as { id: number }[];
    const bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
    expect((await bob.fetch("/v2/dev-team/api/blobs/uploads/", { method: "POST" })).status).toBe(403);
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${members[0]!.id}`, { method: "PUT", ...json({ role_id: 2 }) })).status).toBe(200);
    expect((await bob.fetch("/v2/dev-team/api/blobs/uploads/", { method: "POST" })).status).toBe(202);
  });

  it("removes a member, after which the private project is closed to them", async () => {
    const members = (await (await admin.fetch("/api/v2.0/projects/dev-team/members?entityname=bob")).json()) as { id: number }[];
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${members[0]!.id}`, { method: "DELETE" })).status).toBe(200);
    const bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
    expect((await bob.fetch("/v2/dev-team/api/manifests/v1")).status).toBe(403);
    expect((await bob.fetch("/api/v2.0/projects/dev-team")).status).toBe(403);
  });

  it("shows a member's private project in their project list, and not to others", async () => {
    const names = async (auth: string | null) =>
      ((await (await new RegistryClient(berth.url, auth).fetch("/api/v2.0/projects")).json()) as { name: string }[]).map((p) => p.name);
    expect(await names(basicAuth("alice", PASSWORD))).toContain("dev-team");
    expect(await names(basicAuth("bob", PASSWORD))).not.toContain("dev-team");
    expect(await names(null)).not.toContain("dev-team");
    expect(await names(ADMIN_AUTH)).toContain("dev-team");
  });

  it("makes the creator of a project its administrator", async () => {
    const alice = new RegistryClient(berth.url, basicAuth("alice", PASSWORD));
    await alice.createProject("alice-own", { public: false });
    const members = (await (await alice.fetch("/api/v2.0/projects/alice-own/members")).json()) as { entity_name: string; role_id: number }[];
    expect(members).toEqual([expect.objectContaining({ entity_name: "alice", role_id: 1 })]);
  });
});
