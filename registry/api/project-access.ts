import type { FastifyRequest } from "fastify";
import type { Authorizer } from "../auth/authorizer";
import { isSysadmin, type Principal } from "../auth/principal";
import { canSystem, type ActionName, type Resource, type SystemResource } from "../auth/rbac";
import { projectTarget, refusal, systemTarget } from "../auth/refusal";
import type { MemberStore } from "../projects/members";
import { isValidProjectName, type ProjectRef, type ProjectRow, type ProjectStore } from "../projects/projects";
import { HarborError } from "./errors";

export interface ProjectAccessDeps {
  projects: ProjectStore;
  members: MemberStore;
  authorizer: Authorizer;
}

/**
 * Every /api refusal: 401 for anonymous callers (log in first), 403 for the rest, with a message naming the caller,
 * the action and its target (`user alice may not delete artifacts of project dev-team`).
 */
export function deny(principal: Principal, action: string, target: string): never {
  const message = refusal(principal, action, target);
  if (principal.kind === "anonymous") throw new HarborError("UNAUTHORIZED", message);
  throw new HarborError("FORBIDDEN", message);
}

/** Passes when the caller may do `action` on a system-scope resource; refuses as `deny` does otherwise. */
export function requireSystem(principal: Principal, resource: SystemResource, action: ActionName): void {
  if (!canSystem(principal, resource, action)) deny(principal, action, systemTarget(resource));
}

/** Resolves `{project_name_or_id}` as Harbor does (X-Is-Resource-Name forces a name). */
async function resolveProject(projects: ProjectStore, request: FastifyRequest, nameOrId: string): Promise<ProjectRow | null> {
  const forcedName = String(request.headers["x-is-resource-name"]).toLowerCase() === "true";
  if (!forcedName && /^\d{1,9}$/.test(nameOrId)) return projects.findById(Number(nameOrId));
  if (/\s/.test(nameOrId)) throw new HarborError("BAD_REQUEST", "project name must not contain spaces");
  // A name outside the naming rule cannot exist; asking the database could fail on it (NUL) instead.
  return isValidProjectName(nameOrId) ? projects.findByName(nameOrId) : null;
}

/**
 * The project `nameOrId` when the caller may do `action` on its `resource`. Otherwise 404 to system admins,
 * and 401/403 to everyone else whether or not the project exists, so its existence does not leak.
 */
export async function projectFor(
  deps: ProjectAccessDeps,
  request: FastifyRequest,
  nameOrId: string,
  resource: Resource,
  action: ActionName,
): Promise<ProjectRow> {
  const project = await resolveProject(deps.projects, request, nameOrId);
  await authorizeIn(deps, request.principal, project, nameOrId, resource, action);
  return project!;
}

/** Passes when `project` exists and the caller may do `action` on its `resource`; refuses as projectFor does. */
export async function authorizeIn(
  deps: Pick<ProjectAccessDeps, "authorizer">,
  principal: Principal,
  project: ProjectRef | null,
  label: string,
  resource: Resource,
  action: ActionName,
): Promise<void> {
  if (project && (await deps.authorizer.allows(principal, project, resource, action))) return;
  if (isSysadmin(principal)) throw new HarborError("NOT_FOUND", `project ${label} not found`);
  // A member who may see the project but not do this learns it exists: 403, as Harbor answers. The message names
  // the project as the caller did, so it tells others nothing either.
  deny(principal, action, projectTarget(resource, label));
}
