import type { MemberStore } from "../projects/members";
import { isPublic, type ProjectRef } from "../projects/projects";
import type { Principal } from "./principal";
import { can, type ActionName, type ProjectGrant, type Resource } from "./rbac";

/** Resolves the caller's roles in a project and asks the permission matrix. */
export class Authorizer {
  constructor(private readonly members: MemberStore) {}

  async grantIn(principal: Principal, project: ProjectRef): Promise<ProjectGrant> {
    const roles = principal.kind === "user" ? await this.members.rolesOf(principal.id, project.id) : [];
    return { public: isPublic(project), roles };
  }

  async allows(principal: Principal, project: ProjectRef | null, resource: Resource, action: ActionName): Promise<boolean> {
    if (project === null) return can(principal, null, resource, action);
    return can(principal, await this.grantIn(principal, project), resource, action);
  }
}
