import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import { HARBOR_AUTH_MODE, type AuthMode } from "../auth/auth-mode";
import type { Sql } from "../db/sql";
import type { ProjectCreationRule } from "../projects/creation-restriction";
import { ROBOT_PREFIX } from "../robots/store";
import { authSettingsView, type AuthSettings } from "../settings/auth-settings";
import { SETTING_KEYS } from "../settings/definitions";
import { SettingRefused, type Settings } from "../settings/settings";
import { BERTH_VERSION } from "../version";
import { HarborError } from "./errors";
import { jsonObjectBody } from "./params";
import { requireSystem } from "./project-access";

export interface ConfigurationRouteDeps {
  sql: Sql;
  audit: AuditLog;
  settings: Settings;
  creationRule: ProjectCreationRule;
  /** BERTH_PUBLIC_URL, when set. */
  publicUrl?: string;
  /** A CA certificate is served at /systeminfo/getcert (BERTH_TLS_CA_FILE). */
  hasCaRoot?: boolean;
  /** BERTH_AUTH_MODE; unset → db. */
  authMode?: AuthMode;
  /** The LDAP and OIDC settings of that mode, shown read-only. */
  identity?: Omit<AuthSettings, "authMode">;
}

// Robots sign in as robot$<name>, and policy files, pull secrets and CI configurations name them so: changing the
// prefix at run time would lock every existing robot out, so Berth shows it and keeps it.
const FIXED_PREFIX = `robot_name_prefix is fixed at ${ROBOT_PREFIX} in Berth: robots sign in with that prefix, and changing it would lock every existing robot out`;

/**
 * GET/PUT /api/v2.0/configurations, in Harbor's shape `{key: {value, editable}}` (system admins): the run-time
 * settings (registry/settings), `editable` false for those a BERTH_* variable fixes. A PUT changes the keys it names,
 * all or none, with one audit record. GET /api/v2.0/systeminfo, Harbor's general information: to anyone the
 * authentication mode and version, to logged-in callers also the registry's address (what a pull command names),
 * project_creation_restriction and read_only.
 */
export function registerConfigurationRoutes(app: FastifyInstance, deps: ConfigurationRouteDeps): void {
  const { settings } = deps;

  app.get("/api/v2.0/configurations", async (request) => {
    requireSystem(request.principal, "configuration", "read");
    const view: Record<string, { value: unknown; editable: boolean }> = {};
    for (const key of SETTING_KEYS) view[key] = { value: await settings.get(key), editable: !settings.isFixed(key) };
    // Its default depends on whether a policy source manages the registry.
    view.project_creation_restriction.value = await deps.creationRule.current();
    view.robot_name_prefix = { value: ROBOT_PREFIX, editable: false };
    return { ...view, ...authSettingsView({ authMode: deps.authMode ?? "db", ...deps.identity }) };
  });

  app.put("/api/v2.0/configurations", async (request, reply) => {
    requireSystem(request.principal, "configuration", "update");
    const changes = jsonObjectBody(request);
    if ("robot_name_prefix" in changes && changes.robot_name_prefix !== ROBOT_PREFIX) throw new HarborError("BAD_REQUEST", FIXED_PREFIX);
    delete changes.robot_name_prefix;
    const identityKeys = Object.keys(changes).filter((key) => key === "auth_mode" || /^(ldap|oidc)_/.test(key));
    if (identityKeys.length > 0) {
      throw new HarborError("BAD_REQUEST", `${identityKeys.join(", ")}: the auth settings come from the environment (BERTH_AUTH_MODE, BERTH_LDAP_*, BERTH_OIDC_*) and cannot be changed here`);
    }
    const keys = Object.keys(changes).sort();
    const entry = { projectId: null, operation: "update" as const, resourceType: "configuration" as const, resource: "configurations", description: `update configuration: ${keys.join(", ")}` };
    try {
      await deps.audit.change(actorOf(request), entry, async (tx) => (await settings.update(tx, changes)).length > 0);
    } catch (error) {
      if (error instanceof SettingRefused) throw new HarborError("BAD_REQUEST", error.message);
      throw error;
    }
    settings.forget();
    return reply.code(200).send();
  });

  // The address the request reached: BERTH_PUBLIC_URL, else the checked Host header (as the token realm is built).
  const externalUrl = (request: FastifyRequest) => deps.publicUrl ?? `${request.protocol}://${request.headers.host ?? "localhost"}`;

  app.get("/api/v2.0/systeminfo", async (request) => {
    const general = { auth_mode: HARBOR_AUTH_MODE[deps.authMode ?? "db"], self_registration: false, harbor_version: BERTH_VERSION };
    if (request.principal.kind === "anonymous") return general;
    const external = externalUrl(request);
    return {
      ...general,
      external_url: external,
      registry_url: new URL(external).host,
      project_creation_restriction: await deps.creationRule.current(),
      has_ca_root: deps.hasCaRoot ?? false,
      read_only: await deps.settings.get("read_only"),
      with_chartmuseum: false,
      with_notary: false,
      notification_enable: true,
      current_time: new Date(),
    };
  });
}
