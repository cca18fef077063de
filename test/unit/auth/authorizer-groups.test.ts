import { Authorizer } from "../../../registry/auth/authorizer";
import { GROUP_TYPES, type Principal, type PrincipalGroup } from "../../../registry/auth/principal";
import { ROLES, type RoleId } from "../../../registry/auth/rbac";
import type { MemberStore } from "../../../registry/projects/members";

const project = { id: 7, name: "team", metadata: {}, registry_id: 0 };

/** A member store where alice is a guest herself and the OIDC group "devs" holds maintainer. */
function store(): MemberStore & { asked: (readonly PrincipalGroup[] | undefined)[] } {
  const asked: (readonly PrincipalGroup[] | undefined)[] = [];
  return {
    asked,
    async rolesOf(_userId: number, _projectId: number, groups?: readonly PrincipalGroup[]): Promise<RoleId[]> {
      asked.push(groups);
      const roles: RoleId[] = [ROLES.guest];
      if (groups?.some((g) => g.type === GROUP_TYPES.oidc && g.name === "devs")) roles.push(ROLES.maintainer);
      return roles;
    },
  } as unknown as MemberStore & { asked: (readonly PrincipalGroup[] | undefined)[] };
}

describe("Authorizer with group memberships", () => {
  const alice = (groups?: PrincipalGroup[]): Principal => ({ kind: "user", id: 1, username: "alice", sysadmin: false, ...(groups ? { groups } : {}) });

  it("takes the highest of the user's own role and their groups' roles", async () => {
    const members = store();
    const authorizer = new Authorizer(members);
    expect(await authorizer.allows(alice(), project, "repository", "push")).toBe(false);
    expect(await authorizer.allows(alice([{ type: GROUP_TYPES.oidc, name: "devs" }]), project, "repository", "push")).toBe(true);
    expect(await authorizer.allows(alice([{ type: GROUP_TYPES.oidc, name: "devs" }]), project, "artifact", "delete")).toBe(true);
    expect(await authorizer.allows(alice([{ type: GROUP_TYPES.oidc, name: "devs" }]), project, "member", "create")).toBe(false);
    expect(members.asked).toEqual([undefined, [{ type: 3, name: "devs" }], [{ type: 3, name: "devs" }], [{ type: 3, name: "devs" }]]);
  });

  it("asks without groups for database users, as before", async () => {
    const members = store();
    await new Authorizer(members).grantIn(alice(), project);
    expect(members.asked).toEqual([undefined]);
  });
});
