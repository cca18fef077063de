import type { FastifyRequest } from "fastify";
import type { Authorizer } from "../auth/authorizer";
import { isSysadmin } from "../auth/principal";
import type { ActionName, Resource } from "../auth/rbac";
import type { ProjectRef, ProjectStore } from "../projects/projects";
import { repositoryRefusal } from "../auth/refusal";
import { OciError } from "./errors";
import { requireRepositoryName } from "./names";

/** What a /v2 request does, in registry terms. */
export type RegistryAction = "pull" | "push" | "delete-manifest" | "delete-tag" | "delete-blob";

// How each /v2 action reads in Harbor's permission matrix: developers push but cannot delete. Every /v2 delete is
// repository:delete, as in Harbor (the management API's artifact and tag deletes check artifact:/tag:delete), so a
// robot needs repository:delete to delete with a registry client.
const PERMISSION: Record<RegistryAction, [Resource, ActionName]> = {
  pull: ["repository", "pull"],
  push: ["repository", "push"],
  "delete-manifest": ["repository", "delete"],
  "delete-tag": ["repository", "delete"],
  "delete-blob": ["repository", "delete"],
};

export interface AccessDeps {
  projects: ProjectStore;
  authorizer: Authorizer;
}

export interface RepositoryAccess {
  name: string;
  project: ProjectRef;
}

// What a bearer token must list for each /v2 action (Harbor §10.2: every delete needs `delete`).
const TOKEN_ACTION: Record<RegistryAction, string> = {
  pull: "pull",
  push: "push",
  "delete-manifest": "delete",
  "delete-tag": "delete",
  "delete-blob": "delete",
};

/** What a client asks the token service for when it lacks access (the challenge's scope). */
const CHALLENGE_ACTIONS: Record<RegistryAction, string> = {
  pull: "pull",
  push: "pull,push",
  "delete-manifest": "delete",
  "delete-tag": "delete",
  "delete-blob": "delete",
};

/**
 * Whether the caller may do `action` on `repository` in `project` (no error: for mounts and listings). A bearer
 * token decides alone: its grants were computed from the matrix when it was issued.
 */
export async function mayAccess(
  deps: AccessDeps,
  request: FastifyRequest,
  project: ProjectRef,
  repository: string,
  action: RegistryAction,
): Promise<boolean> {
  if (request.tokenAccess !== null) {
    const needed = TOKEN_ACTION[action];
    return request.tokenAccess.some((a) => a.type === "repository" && a.name === repository && (a.actions.includes(needed) || a.actions.includes("*")));
  }
  const [resource, verb] = PERMISSION[action];
  return deps.authorizer.allows(request.principal, project, resource, verb);
}

/** The scope a client asks the token service for to do `action` on `repository`. */
export function scopeFor(repository: string, action: RegistryAction): string {
  return `repository:${repository}:${CHALLENGE_ACTIONS[action]}`;
}

/**
 * "Insufficient scope" for a client that must fetch a token: 401 with the scopes to ask for, in one challenge
 * (space-separated, as distribution writes several), and Harbor's words for what was refused and who asked.
 */
export function tokenRequired(request: FastifyRequest, refused: { repository: string; action: RegistryAction }, scopes: string[]): OciError {
  const error = new OciError("UNAUTHORIZED", repositoryRefusal(request.principal, refused.repository, TOKEN_ACTION[refused.action]));
  error.challengeScope = scopes.join(" ");
  return error;
}

/**
 * Checks that the caller may do `action` on repository `name`. Anonymous callers, and bearer tokens without the
 * action, get 401 with the scope to ask for; callers with Basic credentials get 403. Whether a project exists is
 * only told to those who could see it: every refusal names the repository as the request did.
 * `mountFrom`, the source of a cross-repository mount, is asked for in the same challenge (pull), as distribution
 * does, so the client's next token can cover the mount.
 */
export async function authorizeRepository(
  deps: AccessDeps,
  request: FastifyRequest,
  rawName: string,
  action: RegistryAction,
  mountFrom: string | null = null,
): Promise<RepositoryAccess> {
  const { name, project: projectName } = requireRepositoryName(rawName);
  const project = await deps.projects.findRefByName(projectName);
  const principal = request.principal;
  if (project && (await mayAccess(deps, request, project, name, action))) {
    // A proxy cache holds only what it fetched from its upstream (Harbor's words).
    if (action === "push" && project.registry_id > 0) throw new OciError("DENIED", "can not push artifact to a proxy project");
    return { name, project };
  }
  if (principal.kind === "anonymous" || request.tokenAccess !== null) {
    // A token without this action is "insufficient scope": 401 with the scope to ask for, as distribution does.
    const scopes = [scopeFor(name, action), ...(mountFrom === null ? [] : [scopeFor(mountFrom, "pull")])];
    throw tokenRequired(request, { repository: name, action }, scopes);
  }
  if (!project && isSysadmin(principal)) {
    throw new OciError("NAME_UNKNOWN", `project ${projectName} does not exist; create it first`, { project: projectName });
  }
  throw new OciError("DENIED", repositoryRefusal(principal, name, TOKEN_ACTION[action]));
}
