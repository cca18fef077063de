import type { ProjectCreationRestriction } from "../config";
import type { Principal } from "./principal";
import { canCreateProject, canSystem, type ActionName, type SystemResource } from "./rbac";
import { grantableCatalogue } from "./robot-catalogue";

/**
 * What the caller may do at system scope (GET /users/current/permissions?scope=/system): the system namespace's
 * policies it holds, as in Harbor, plus `project:create` when project_creation_restriction lets it create projects
 * without the system grant (any logged-in user under `everyone`), so a client learns whether to offer creation.
 */
export function systemPermissions(principal: Principal, restriction: ProjectCreationRestriction): { resource: string; action: ActionName }[] {
  const granted = grantableCatalogue().system.filter(({ resource, action }) => canSystem(principal, resource as SystemResource, action));
  const creates = granted.some(({ resource, action }) => resource === "project" && action === "create");
  if (!creates && canCreateProject(principal, restriction)) granted.push({ resource: "project", action: "create" });
  return granted;
}
