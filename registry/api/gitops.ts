import type { FastifyInstance } from "fastify";
import type { ActionName, Resource } from "../auth/rbac";
import type { GitOpsStatus } from "../gitops/status";
import { HarborError } from "./errors";
import { queryString } from "./params";
import { projectFor, requireSystem, type ProjectAccessDeps } from "./project-access";

// What a caller must be allowed in a project to learn that one of its objects is managed: as much as seeing the object.
const SEES: Record<string, [Resource, ActionName]> = {
  project: ["project", "read"],
  member: ["member", "list"],
  robot: ["robot", "list"],
  label: ["label", "list"],
  immutability: ["immutable-tag", "list"],
  retention: ["tag-retention", "read"],
};

/**
 * /api/v2.0/gitops (Berth's extension, read-only): the GitOps controller's state for people. System admins read the
 * whole status and every managed object; anyone who may read a project learns which of its objects are managed
 * (`/projects/{p}/gitops`), as far as they may see those objects, and whether hand-made changes are put back.
 */
export function registerGitOpsRoutes(app: FastifyInstance, deps: ProjectAccessDeps & { gitops: GitOpsStatus }): void {
  const { gitops } = deps;

  app.get("/api/v2.0/gitops/status", async (request) => {
    requireSystem(request.principal, "configuration", "read");
    return gitops.status();
  });

  app.get("/api/v2.0/gitops/managed", async (request) => {
    requireSystem(request.principal, "configuration", "read");
    const kind = queryString(request.query, "kind");
    if (kind !== undefined && !/^[a-z]{1,32}$/.test(kind)) throw new HarborError("BAD_REQUEST", "kind must be a kind name such as project, member or robot");
    return gitops.managed(kind);
  });

  app.get<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId/gitops", async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "read");
    const [objects, reverting] = await Promise.all([gitops.managedIn(project.name), gitops.reverting()]);
    const visible = [];
    for (const object of objects) {
      const [resource, action] = SEES[object.kind] ?? ["project", "update"];
      if (await deps.authorizer.allows(request.principal, project, resource, action)) visible.push(object);
    }
    // The reason given for a suspension is for administrators.
    return { managed: objects.some((o) => o.kind === "project"), suspended: reverting.suspended, drift_mode: reverting.drift_mode, objects: visible };
  });
}
