import type { FastifyInstance } from "fastify";
import type { ProjectCreationRule } from "../projects/creation-restriction";

/**
 * GET /api/v2.0/systeminfo, the part of Harbor's answer Berth has: the authentication mode for everyone, and for
 * signed-in callers `project_creation_restriction`, which the web UI reads to offer "New project" only to those the
 * server will let create one (Harbor's portal does the same). No other setting is exposed here.
 */
export function registerSystemInfoRoutes(app: FastifyInstance, deps: { creationRule: ProjectCreationRule }): void {
  app.get("/api/v2.0/systeminfo", async (request) => {
    const base = { auth_mode: "db_auth", self_registration: false };
    if (request.principal.kind === "anonymous") return base;
    return { ...base, project_creation_restriction: await deps.creationRule.current() };
  });
}
