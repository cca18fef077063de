import type { FastifyRequest } from "fastify";
import { can, type Action } from "../auth/rbac";
import { isPublic, type ProjectRef, type ProjectStore } from "../projects/projects";
import { OciError } from "./errors";
import { requireRepositoryName } from "./names";

export interface RepositoryAccess {
  name: string;
  project: ProjectRef;
}

/**
 * Checks that the caller may do `action` on repository `name`. Anonymous callers are asked to log in (401);
 * authenticated ones are refused (403). Whether a project exists is only told to those who could see it.
 */
export async function authorizeRepository(
  projects: ProjectStore,
  request: FastifyRequest,
  rawName: string,
  action: Action,
): Promise<RepositoryAccess> {
  const { name, project: projectName } = requireRepositoryName(rawName);
  const project = await projects.findRefByName(projectName);
  const principal = request.principal;
  if (project && can(principal, action, { public: isPublic(project) })) return { name, project };
  if (principal.kind === "anonymous") throw new OciError("UNAUTHORIZED");
  if (!project && can(principal, "create-project", null) && can(principal, action, { public: false })) {
    throw new OciError("NAME_UNKNOWN", `project ${projectName} does not exist; create it first`, { project: projectName });
  }
  throw new OciError("DENIED", `requested access to ${name} is denied`);
}
