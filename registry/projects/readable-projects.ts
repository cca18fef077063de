import type { Authorizer } from "../auth/authorizer";
import { isSysadmin, type Principal } from "../auth/principal";
import type { ActionName, Resource } from "../auth/rbac";
import type { ProjectStore } from "./projects";

/**
 * The ids of the projects in which the caller may do `resource:action`, for listings that span projects (the
 * catalog, every repository): null for system admins (every project). Candidates are the projects the caller sees
 * (public ones, its own, a robot's), each asked of the permission matrix.
 */
export async function projectIdsAllowing(
  deps: { projects: ProjectStore; authorizer: Authorizer },
  principal: Principal,
  resource: Resource,
  action: ActionName,
): Promise<number[] | null> {
  if (isSysadmin(principal)) return null;
  const { rows } = await deps.projects.list({ visibleTo: deps.authorizer.visibility(principal), limit: 100000, offset: 0 });
  const allowed = await Promise.all(rows.map((project) => deps.authorizer.allows(principal, project, resource, action)));
  return rows.filter((_, i) => allowed[i]).map((project) => project.id);
}
