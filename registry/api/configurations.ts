import type { FastifyInstance } from "fastify";
import type { ProjectCreationRule } from "../projects/creation-restriction";
import { requireSystem } from "./project-access";

/**
 * GET /api/v2.0/configurations, in Harbor's shape, for the settings Berth has (system admins). Read-only: they come
 * from the environment, so `editable` is false and there is no PUT.
 */
export function registerConfigurationRoutes(app: FastifyInstance, deps: { creationRule: ProjectCreationRule }): void {
  app.get("/api/v2.0/configurations", async (request) => {
    requireSystem(request.principal, "configuration", "read");
    return { project_creation_restriction: { value: await deps.creationRule.current(), editable: false } };
  });
}
