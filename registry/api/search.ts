import type { FastifyInstance } from "fastify";
import type { Authorizer } from "../auth/authorizer";
import { isSysadmin } from "../auth/principal";
import type { MemberStore } from "../projects/members";
import type { ProjectOverview } from "../projects/overview";
import type { RoleId } from "../auth/rbac";
import type { GitOpsStatus } from "../gitops/status";
import { HarborError } from "./errors";
import { queryString } from "./params";
import { deny } from "./project-access";
import { projectToApi } from "./projects";

export interface SearchRouteDeps {
  overview: ProjectOverview;
  authorizer: Authorizer;
  members: MemberStore;
  gitops: GitOpsStatus;
}

/**
 * GET /api/v2.0/search?q= (anyone: what they can see, public projects for anonymous callers) and
 * GET /api/v2.0/statistics (logged-in callers; total_storage_consumption for system admins only), in Harbor's shapes.
 */
export function registerSearchRoutes(app: FastifyInstance, deps: SearchRouteDeps): void {
  app.get("/api/v2.0/search", async (request) => {
    const q = queryString(request.query, "q");
    if (q === undefined || q.trim() === "") throw new HarborError("BAD_REQUEST", "q is required: the text project and repository names should contain");
    const principal = request.principal;
    const { projects, repositories } = await deps.overview.search(deps.authorizer.visibility(principal), q.trim());
    const roles = principal.kind === "user" ? await deps.members.rolesIn(principal.id, projects.map((p) => p.id), principal.groups) : new Map<number, RoleId[]>();
    const managed = await deps.gitops.managedProjects(projects.map((p) => p.name));
    return { project: projects.map((p) => projectToApi(p, roles.get(p.id) ?? [], managed.has(p.name))), repository: repositories };
  });

  app.get("/api/v2.0/statistics", async (request) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "read", "statistics");
    const counts = await deps.overview.statistics(deps.authorizer.visibility(principal));
    return isSysadmin(principal) ? { ...counts, total_storage_consumption: await deps.overview.totalStorage() } : counts;
  });
}
