import { Authorizer } from "../../../registry/auth/authorizer";
import { GROUP_TYPES, type Principal, type PrincipalGroup } from "../../../registry/auth/principal";
import { ROLES } from "../../../registry/auth/rbac";
import { migrate } from "../../../registry/db/migrate";
import type { Sql } from "../../../registry/db/sql";
import { UserGroups } from "../../../registry/groups/user-groups";
import { MemberStore } from "../../../registry/projects/members";
import { ProjectStore, type ProjectRef } from "../../../registry/projects/projects";
import { twoNodeSetups, type Nodes } from "../../support/database";

/**
 * Roles through user groups, on a real database: no identity source fills a principal's groups yet (LDAP and OIDC
 * will at sign-in), so the principals here carry groups as those sign-ins will, and the member store and authorizer
 * are asked directly.
 */
describe.each(twoNodeSetups())("group membership roles (%s)", (_name, open) => {
  let nodes: Nodes;
  let sql: Sql;
  let members: MemberStore;
  let groups: UserGroups;
  let project: ProjectRef;
  let userId: number;

  const ldapDevs = "cn=Devs,ou=groups,dc=example,dc=org";
  const user = (groupList: PrincipalGroup[] = []): Principal => ({ kind: "user", id: userId, username: "alice", sysadmin: false, groups: groupList });

  beforeAll(async () => {
    nodes = await open();
    sql = nodes.a;
    await migrate(sql);
    [{ id: userId }] = await sql.query<{ id: number }>("INSERT INTO users (username, password_hash) VALUES ('alice', 'x') RETURNING id");
    const [row] = await sql.query<{ id: number }>("INSERT INTO projects (name) VALUES ('team') RETURNING id");
    project = { id: row.id, name: "team", metadata: {}, registry_id: 0 };
    members = new MemberStore(sql);
    groups = new UserGroups(sql);
  });
  afterAll(() => nodes.cleanup());

  it("counts the roles of the user's groups next to their own, the highest winning in the matrix", async () => {
    const authorizer = new Authorizer(members);
    const oidcId = (await groups.create({ group_name: "devs", group_type: GROUP_TYPES.oidc, ldap_group_dn: "" }))!;
    const ldapId = (await groups.create({ group_name: "Devs", group_type: GROUP_TYPES.ldap, ldap_group_dn: ldapDevs }))!;
    await members.addUser(project.id, userId, ROLES.guest);
    await members.addGroup(project.id, oidcId, ROLES.developer);
    await members.addGroup(project.id, ldapId, ROLES.projectAdmin);

    expect(await members.rolesOf(userId, project.id)).toEqual([ROLES.guest]);
    expect(await authorizer.allows(user(), project, "repository", "push")).toBe(false);

    const devs: PrincipalGroup[] = [{ type: GROUP_TYPES.oidc, name: "devs" }];
    expect((await members.rolesOf(userId, project.id, devs)).sort()).toEqual([ROLES.developer, ROLES.guest]);
    const oidcDevs = user(devs);
    expect(await authorizer.allows(oidcDevs, project, "repository", "push")).toBe(true);
    expect(await authorizer.allows(oidcDevs, project, "member", "create")).toBe(false);

    // LDAP DNs match case-insensitively; a name of the wrong type matches nothing.
    const ldap = user([{ type: GROUP_TYPES.ldap, name: ldapDevs.toUpperCase() }]);
    expect(await authorizer.allows(ldap, project, "member", "create")).toBe(true);
    expect(await authorizer.allows(user([{ type: GROUP_TYPES.http, name: "devs" }]), project, "repository", "push")).toBe(false);
  });

  it("lists private projects to users whose group is a member", async () => {
    const projects = new ProjectStore(sql);
    const [{ id: bobId }] = await sql.query<{ id: number }>("INSERT INTO users (username, password_hash) VALUES ('bob', 'x') RETURNING id");
    const bob = (groupList?: PrincipalGroup[]): Principal => ({ kind: "user", id: bobId, username: "bob", sysadmin: false, ...(groupList ? { groups: groupList } : {}) });
    const authorizer = new Authorizer(members);
    const names = async (principal: Principal) => (await projects.list({ visibleTo: authorizer.visibility(principal), limit: 10, offset: 0 })).rows.map((p) => p.name);
    expect(await names(bob())).toEqual([]);
    expect(await names(bob([{ type: GROUP_TYPES.oidc, name: "devs" }]))).toEqual(["team"]);
    expect(await names(bob([{ type: GROUP_TYPES.ldap, name: ldapDevs }]))).toEqual(["team"]);
    expect(await names(bob([{ type: GROUP_TYPES.oidc, name: "other" }]))).toEqual([]);
  });

  it("lists group members next to users (entity_type g) and forgets a deleted group's roles", async () => {
    const { rows } = await members.list(project.id, { limit: 10, offset: 0 });
    expect(rows.map((r) => [r.entity_type, r.entity_name])).toEqual([["u", "alice"], ["g", "devs"], ["g", "Devs"]]);
    expect((await members.list(project.id, { entityName: "dev", limit: 10, offset: 0 })).total).toBe(2);

    const ldapGroup = (await groups.find(GROUP_TYPES.ldap, ldapDevs.toLowerCase()))!;
    expect(await groups.delete(ldapGroup.id)).toBe(true);
    members.forgetAll();
    expect(await members.rolesOf(userId, project.id, [{ type: GROUP_TYPES.ldap, name: ldapDevs }])).toEqual([ROLES.guest]);
    expect((await members.list(project.id, { limit: 10, offset: 0 })).total).toBe(2);
  });

  it("keeps one group per DN and per name and type", async () => {
    expect(await groups.create({ group_name: "devs", group_type: GROUP_TYPES.oidc, ldap_group_dn: "" })).toBeNull();
    expect(await groups.create({ group_name: "devs", group_type: GROUP_TYPES.http, ldap_group_dn: "" })).not.toBeNull();
    const dn = "cn=ops,dc=example,dc=org";
    expect(await groups.create({ group_name: "ops", group_type: GROUP_TYPES.ldap, ldap_group_dn: dn })).not.toBeNull();
    expect(await groups.create({ group_name: "ops2", group_type: GROUP_TYPES.ldap, ldap_group_dn: dn.toUpperCase() })).toBeNull();
  });
});
