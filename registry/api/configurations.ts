import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ProjectCreationRule } from "../projects/creation-restriction";
import { BERTH_VERSION } from "../version";
import { requireSystem } from "./project-access";

export interface ConfigurationRouteDeps {
  creationRule: ProjectCreationRule;
  /** BERTH_PUBLIC_URL, when set. */
  publicUrl?: string;
  /** A CA certificate is served at /systeminfo/getcert (BERTH_TLS_CA_FILE). */
  hasCaRoot?: boolean;
}

/**
 * GET /api/v2.0/configurations, in Harbor's shape, for the settings Berth has (system admins). Read-only: they come
 * from the environment, so `editable` is false and there is no PUT. GET /api/v2.0/systeminfo, Harbor's general
 * information: to anyone the authentication mode and version, to logged-in callers also the registry's address
 * (what a pull command names) and project_creation_restriction.
 */
export function registerConfigurationRoutes(app: FastifyInstance, deps: ConfigurationRouteDeps): void {
  app.get("/api/v2.0/configurations", async (request) => {
    requireSystem(request.principal, "configuration", "read");
    return { project_creation_restriction: { value: await deps.creationRule.current(), editable: false } };
  });

  // The address the request reached: BERTH_PUBLIC_URL, else the checked Host header (as the token realm is built).
  const externalUrl = (request: FastifyRequest) => deps.publicUrl ?? `${request.protocol}://${request.headers.host ?? "localhost"}`;

  app.get("/api/v2.0/systeminfo", async (request) => {
    const general = { auth_mode: "db_auth", self_registration: false, harbor_version: BERTH_VERSION };
    if (request.principal.kind === "anonymous") return general;
    const external = externalUrl(request);
    return {
      ...general,
      external_url: external,
      registry_url: new URL(external).host,
      project_creation_restriction: await deps.creationRule.current(),
      has_ca_root: deps.hasCaRoot ?? false,
      read_only: false,
      with_chartmuseum: false,
      with_notary: false,
      notification_enable: true,
      current_time: new Date(),
    };
  });
}
