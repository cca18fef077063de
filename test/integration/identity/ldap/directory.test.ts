import type { LdapConfig } from "../../../../registry/identity/ldap/config";
import { escapeFilterValue, LdapDirectory, LdapUnavailableError } from "../../../../registry/identity/ldap/directory";
import { BASE_DN, GROUPS_DN, groupDn, PEOPLE, PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, slapdAvailable, startSlapd, userDn, type Slapd } from "../../../support/slapd";
import { describeIf } from "../../../support/tools";

test("filter values are escaped so a username cannot widen the search", () => {
  expect(escapeFilterValue("a*)(uid=*")).toBe("a\\2a\\29\\28uid=\\2a");
  expect(escapeFilterValue("back\\slash\0")).toBe("back\\5cslash\\00");
});

describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "LdapDirectory against slapd", () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  }, 60_000);
  afterAll(() => slapd?.stop());

  const config = (overrides: Partial<LdapConfig> = {}): LdapConfig => ({
    url: slapd.url,
    startTls: true,
    caFile: slapd.caFile,
    baseDn: BASE_DN,
    searchDn: SEARCH_DN,
    searchPassword: SEARCH_PASSWORD,
    uidAttribute: "uid",
    filter: "(objectClass=inetOrgPerson)",
    scope: "sub",
    groupBaseDn: GROUPS_DN,
    groupFilter: "(objectClass=groupOfNames)",
    groupAttribute: "memberOf",
    groupAdminDn: groupDn("registry-admins"),
    timeoutMs: 5000,
    searchMax: 100,
    ...overrides,
  });

  test("a user signs in over StartTLS with their groups from memberOf", async () => {
    const directory = new LdapDirectory(config());
    const alice = await directory.authenticate("alice", PEOPLE.alice.password);
    expect(alice).toEqual({
      dn: userDn("alice"),
      username: "alice",
      email: "alice@berth.test",
      realname: "Alice",
      groupDns: [groupDn("devs"), groupDn("registry-admins")],
    });
    expect(directory.isAdmin(alice!)).toBe(true);
    const bob = await directory.authenticate("bob", PEOPLE.bob.password);
    expect(bob!.groupDns).toEqual([groupDn("devs")]);
    expect(directory.isAdmin(bob!)).toBe(false);
  });

  test("groups come from a group search when no group attribute is set, over ldaps", async () => {
    const directory = new LdapDirectory(config({ url: slapd.ldapsUrl, startTls: false, groupAttribute: undefined }));
    const alice = await directory.authenticate("alice", PEOPLE.alice.password);
    expect(alice!.groupDns.sort()).toEqual([groupDn("devs"), groupDn("registry-admins")]);
  });

  test("a wrong password, an empty password and an unknown user are refused alike", async () => {
    const directory = new LdapDirectory(config());
    expect(await directory.authenticate("alice", "wrong")).toBeNull();
    expect(await directory.authenticate("alice", "")).toBeNull();
    expect(await directory.authenticate("nobody", "x")).toBeNull();
    expect(await directory.authenticate("*", PEOPLE.alice.password)).toBeNull();
  });

  test("a certificate from an unknown CA is refused", async () => {
    const directory = new LdapDirectory(config({ caFile: undefined }));
    await expect(directory.ping()).rejects.toThrow(LdapUnavailableError);
  });

  test("a wrong search password makes the directory unavailable, not the user unknown", async () => {
    const directory = new LdapDirectory(config({ searchPassword: "wrong" }));
    await expect(directory.authenticate("alice", PEOPLE.alice.password)).rejects.toThrow(LdapUnavailableError);
  });

  test("users and groups are searched", async () => {
    const directory = new LdapDirectory(config());
    await directory.ping();
    expect((await directory.searchUsers("o", { limit: 10 })).map((u) => u.username)).toEqual(["bob", "carol"]);
    expect((await directory.searchUsers("", { limit: 10 })).map((u) => u.username).sort()).toEqual(["alice", "bob", "carol"]);
    expect(await directory.searchGroups({ name: "dev" })).toEqual([{ dn: groupDn("devs"), name: "devs" }]);
    expect(await directory.searchGroups({ dn: groupDn("registry-admins") })).toEqual([{ dn: groupDn("registry-admins"), name: "registry-admins" }]);
    expect(await directory.searchGroups({ dn: `cn=none,${GROUPS_DN}` })).toEqual([]);
    expect(PEOPLE_DN).toContain(BASE_DN);
  });

  test("a group's members are found as sign-ins find groups: by memberOf, or by the group's member values", async () => {
    for (const directory of [new LdapDirectory(config()), new LdapDirectory(config({ groupAttribute: undefined }))]) {
      const devs = await directory.groupMembers(groupDn("devs"), 10);
      expect({ users: devs.users.map((u) => u.username), complete: devs.complete }).toEqual({ users: ["alice", "bob"], complete: true });
      const cut = await directory.groupMembers(groupDn("devs"), 1);
      expect({ users: cut.users.map((u) => u.username), complete: cut.complete }).toEqual({ users: ["alice"], complete: false });
      expect(await directory.groupMembers(`cn=none,${GROUPS_DN}`, 10)).toEqual({ users: [], complete: true });
    }
  });
});
