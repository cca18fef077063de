import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let alice: RegistryClient;
let bob: RegistryClient;
const PASSWORD = "Groups-Passw0rd";
const DN = "cn=devs,ou=groups,dc=example,dc=org";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const errorOf = async (response: Response) => ((await response.json()) as { errors: { code: string; message: string }[] }).errors[0];

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createUser("alice", PASSWORD);
  await admin.createUser("bob", PASSWORD);
  alice = new RegistryClient(berth.url, basicAuth("alice", PASSWORD));
  bob = new RegistryClient(berth.url, basicAuth("bob", PASSWORD));
  expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "team", public: false }))).status).toBe(201);
  expect((await admin.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 1, username: "alice" }))).status).toBe(201);
});
afterAll(() => berth.close());

describe("/api/v2.0/usergroups", () => {
  let oidcGroup: string;

  it("creates OIDC groups by name and LDAP groups by DN, refusing duplicates and bad bodies", async () => {
    const created = await admin.fetch("/api/v2.0/usergroups", json("POST", { group_name: "devs", group_type: 3 }));
    expect(created.status).toBe(201);
    oidcGroup = created.headers.get("location")!;
    expect(oidcGroup).toMatch(/^\/api\/v2\.0\/usergroups\/\d+$/);
    expect((await admin.fetch("/api/v2.0/usergroups", json("POST", { group_type: 1, ldap_group_dn: DN }))).status).toBe(201);
    expect((await admin.fetch("/api/v2.0/usergroups", json("POST", { group_name: "devs", group_type: 3 }))).status).toBe(409);
    expect((await admin.fetch("/api/v2.0/usergroups", json("POST", { group_type: 1, ldap_group_dn: DN.toUpperCase() }))).status).toBe(409);
    // The same DN as a person types it, with spaces after the commas, is the same group.
    expect((await admin.fetch("/api/v2.0/usergroups", json("POST", { group_type: 1, ldap_group_dn: DN.replace(/,/g, ", ") }))).status).toBe(409);
    for (const body of [{ group_name: "x", group_type: 4 }, { group_type: 1 }, { group_name: "", group_type: 3 }, { group_name: "x", group_type: 3, ldap_group_dn: DN }]) {
      const refused = await admin.fetch("/api/v2.0/usergroups", json("POST", body));
      expect(refused.status).toBe(400);
      expect((await errorOf(refused)).code).toBe("BAD_REQUEST");
    }
  });

  it("lists with paging and filters, reads, renames and 404s unknown ids", async () => {
    const page = await admin.fetch("/api/v2.0/usergroups?page=1&page_size=1");
    expect(page.headers.get("x-total-count")).toBe("2");
    expect(await page.json()).toEqual([{ id: expect.any(Number), group_name: DN, group_type: 1, ldap_group_dn: DN }]);
    expect(((await (await admin.fetch("/api/v2.0/usergroups?group_type=3")).json()) as unknown[]).length).toBe(1);
    expect(((await (await admin.fetch(`/api/v2.0/usergroups?ldap_group_dn=${encodeURIComponent(DN)}`)).json()) as unknown[]).length).toBe(1);
    expect(((await (await admin.fetch(`/api/v2.0/usergroups?ldap_group_dn=${encodeURIComponent(DN.replace(/,/g, " , "))}`)).json()) as unknown[]).length).toBe(1);
    expect((await admin.fetch(oidcGroup, json("PUT", { group_name: "developers" }))).status).toBe(200);
    expect(await (await admin.fetch(oidcGroup)).json()).toMatchObject({ group_name: "developers", group_type: 3, ldap_group_dn: "" });
    expect((await admin.fetch("/api/v2.0/usergroups/99999")).status).toBe(404);
    expect((await admin.fetch("/api/v2.0/usergroups/abc")).status).toBe(400);
  });

  it("is for system admins; search also answers project admins", async () => {
    expect((await alice.fetch("/api/v2.0/usergroups")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/usergroups")).status).toBe(401);
    const found = await alice.fetch("/api/v2.0/usergroups/search?groupname=develop");
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual([{ id: expect.any(Number), group_name: "developers", group_type: 3 }]);
    expect((await bob.fetch("/api/v2.0/usergroups/search?groupname=develop")).status).toBe(403);
    expect((await alice.fetch("/api/v2.0/usergroups/search")).status).toBe(400);
  });
});

describe("/api/v2.0/users/current/groups", () => {
  it("answers the groups the sign-in gave (none for a database user), to users only", async () => {
    const own = await alice.fetch("/api/v2.0/users/current/groups");
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual([]);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/users/current/groups")).status).toBe(401);
  });
});

describe("group members of a project", () => {
  it("adds groups by id, by name and type (created when new) and by LDAP DN; the list shows them as g", async () => {
    const [{ id: groupId }] = (await (await admin.fetch("/api/v2.0/usergroups?group_type=3")).json()) as { id: number }[];
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 2, member_group: { id: groupId } }))).status).toBe(201);
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 2, member_group: { id: groupId } }))).status).toBe(409);
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 3, member_group: { group_name: "qa", group_type: 3 } }))).status).toBe(201);
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 4, member_group: { group_type: 1, ldap_group_dn: DN } }))).status).toBe(201);
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 2, member_group: { id: 99999 } }))).status).toBe(404);
    expect((await alice.fetch("/api/v2.0/projects/team/members", json("POST", { role_id: 2, member_group: { group_type: 9, group_name: "x" } }))).status).toBe(400);

    const listed = (await (await alice.fetch("/api/v2.0/projects/team/members")).json()) as { entity_name: string; entity_type: string; role_name: string }[];
    expect(listed.map((m) => [m.entity_name, m.entity_type, m.role_name])).toEqual([
      ["admin", "u", "projectAdmin"],
      ["alice", "u", "projectAdmin"],
      ["developers", "g", "developer"],
      ["qa", "g", "guest"],
      [DN, "g", "maintainer"],
    ]);
    // Group members say which kind of group they are, and an LDAP group its DN (Berth addition); users carry neither.
    const kinds = (listed as unknown as Record<string, unknown>[]).map((m) => [m.entity_name, m.group_type, m.ldap_group_dn]);
    expect(kinds).toEqual([
      ["admin", undefined, undefined],
      ["alice", undefined, undefined],
      ["developers", 3, ""],
      ["qa", 3, ""],
      [DN, 1, DN],
    ]);
    // "qa" was onboarded by naming it.
    expect(((await (await admin.fetch("/api/v2.0/usergroups?group_name=qa")).json()) as unknown[]).length).toBe(1);
  });

  it("drops a deleted group's memberships", async () => {
    const [qa] = (await (await admin.fetch("/api/v2.0/usergroups?group_name=qa")).json()) as { id: number }[];
    expect((await admin.fetch(`/api/v2.0/usergroups/${qa.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/usergroups/${qa.id}`, { method: "DELETE" })).status).toBe(404);
    const names = ((await (await alice.fetch("/api/v2.0/projects/team/members")).json()) as { entity_name: string }[]).map((m) => m.entity_name);
    expect(names).not.toContain("qa");
  });
});
