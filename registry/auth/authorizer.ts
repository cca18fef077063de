import type { MemberStore } from "../projects/members";
import { isPublic, type ProjectRef, type Visibility } from "../projects/projects";
import { isSysadmin, robotGrantsIn, type Principal } from "./principal";
import { can, canSystem, type ActionName, type ProjectGrant, type Resource } from "./rbac";

/** Resolves the caller's roles (or a robot's grants) in a project and asks the permission matrix. */
export class Authorizer {
  constructor(private readonly members: MemberStore) {}

  async grantIn(principal: Principal, project: ProjectRef): Promise<ProjectGrant> {
    if (principal.kind === "robot") return { public: isPublic(project), roles: [], access: robotGrantsIn(principal.scopes, project.id) };
    const roles = principal.kind === "user" ? await this.members.rolesOf(principal.id, project.id, principal.groups) : [];
    return { public: isPublic(project), roles };
  }

  async allows(principal: Principal, project: ProjectRef | null, resource: Resource, action: ActionName): Promise<boolean> {
    if (project === null) return can(principal, null, resource, action);
    return can(principal, await this.grantIn(principal, project), resource, action);
  }

  /** Which projects the caller sees in listings (Harbor: sysadmins all; others public ones and their own). */
  visibility(principal: Principal): Visibility {
    if (isSysadmin(principal) || canSystem(principal, "project", "list")) return { all: true };
    if (principal.kind === "user") return principal.groups?.length ? { userId: principal.id, groups: principal.groups } : { userId: principal.id };
    if (principal.kind === "robot") {
      if (principal.scopes.allProjects.size > 0) return { all: true };
      return { projectIds: [...principal.scopes.projects.keys()] };
    }
    return "public";
  }
}
