import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import type { Queryable, Sql } from "../db/sql";
import type { ProjectRow } from "../projects/projects";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";

export type ProjectRouteDeps = ProjectAccessDeps & { sql: Sql; audit: AuditLog };

// Metadata keys a normal project accepts (HARBOR-MODEL §2.3); proxy-cache keys arrive with proxy projects.
const METADATA_KEYS = new Set([
  "public",
  "enable_content_trust",
  "enable_content_trust_cosign",
  "prevent_vul",
  "severity",
  "auto_scan",
  "auto_sbom_generation",
  "reuse_sys_cve_allowlist",
]);
const BOOLEAN_KEYS = new Set([...METADATA_KEYS].filter((k) => k !== "severity"));
const SEVERITIES = new Set(["none", "low", "medium", "high", "critical"]);

/** The stored form of one value: strings, "true"/"false" for flags, a lower-case severity. 400 otherwise. */
function metadataValue(key: string, value: unknown): string {
  if (typeof value !== "string") throw new HarborError("BAD_REQUEST", `metadata.${key} must be a string`);
  const lowered = value.toLowerCase();
  if (BOOLEAN_KEYS.has(key) && lowered !== "true" && lowered !== "false") {
    throw new HarborError("BAD_REQUEST", `metadata.${key} must be "true" or "false", got "${value}"`);
  }
  if (key === "severity" && !SEVERITIES.has(lowered)) {
    throw new HarborError("BAD_REQUEST", `metadata.severity must be one of ${[...SEVERITIES].join(", ")}`);
  }
  return lowered;
}

/** The deprecated top-level `public` flag as a metadata value; undefined when the body does not carry it. */
function legacyPublicValue(legacyPublic: unknown): string | undefined {
  if (legacyPublic === undefined || legacyPublic === null) return undefined;
  if (typeof legacyPublic !== "boolean") throw new HarborError("BAD_REQUEST", "public must be a boolean");
  return String(legacyPublic);
}

/**
 * The metadata a ProjectReq sets, validated: only the keys it names, so that an update leaves the others as they
 * are. Keys that do not apply to a normal project are dropped, as Harbor does. The legacy top-level `public` counts
 * only when `metadata.public` is absent.
 */
export function metadataPatch(input: unknown, legacyPublic: unknown): Record<string, string> {
  if (input !== undefined && input !== null && !isJsonObject(input)) throw new HarborError("BAD_REQUEST", "metadata must be an object");
  const patch: Record<string, string> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (METADATA_KEYS.has(key)) patch[key] = metadataValue(key, value);
  }
  if (patch.public === undefined) {
    const legacy = legacyPublicValue(legacyPublic);
    if (legacy !== undefined) patch.public = legacy;
  }
  return patch;
}

/** The metadata of a new project: as given, and private unless it says otherwise. */
export function normalizeMetadata(input: unknown, legacyPublic: unknown): Record<string, string> {
  return { public: "false", ...metadataPatch(input, legacyPublic) };
}

/**
 * Runs a metadata change and its audit record in one transaction (a truthy result means something changed), then
 * lets this node's permission checks see the new values at once: a `public` flip applies to the next pull.
 */
export async function changeMetadata(
  deps: ProjectRouteDeps,
  request: FastifyRequest,
  project: ProjectRow,
  description: string,
  change: (tx: Queryable) => Promise<boolean>,
): Promise<boolean> {
  const entry = { projectId: project.id, operation: "update", resourceType: "project", resource: project.name, description } as const;
  const changed = await deps.audit.change(actorOf(request), entry, change);
  deps.projects.forgetRef(project.name);
  return changed;
}

/** The one `key: value` pair a metadata POST or PUT carries, validated; 400 for any other count or an unknown key. */
function singleEntry(request: FastifyRequest): [string, string] {
  const entries = Object.entries(jsonObjectBody(request));
  if (entries.length !== 1) throw new HarborError("BAD_REQUEST", "only allow one key/value pair");
  const [[key, value]] = entries;
  if (!METADATA_KEYS.has(key)) throw new HarborError("BAD_REQUEST", `invalid key: ${key}`);
  return [key, metadataValue(key, value)];
}

function notFound(key: string): never {
  throw new HarborError("NOT_FOUND", `metadata ${key} not found`);
}

type Params = { nameOrId: string };
type KeyParams = Params & { metaName: string };

/** /api/v2.0/projects/{p}/metadatas/: Harbor's per-key metadata endpoints, checked against the metadata:* permissions. */
export function registerProjectMetadataRoutes(app: FastifyInstance, deps: ProjectRouteDeps): void {
  const { projects } = deps;
  const project = (request: FastifyRequest<{ Params: Params }>, action: ActionName) =>
    projectFor(deps, request, request.params.nameOrId, "metadata", action);

  // Harbor's swagger spells the collection with a trailing slash; clients send both forms.
  for (const base of ["/api/v2.0/projects/:nameOrId/metadatas", "/api/v2.0/projects/:nameOrId/metadatas/"]) {
    app.get<{ Params: Params }>(base, async (request) => (await project(request, "read")).metadata);

    app.post<{ Params: Params }>(base, async (request, reply) => {
      const target = await project(request, "create");
      const [key, value] = singleEntry(request);
      const added = await changeMetadata(deps, request, target, `add metadata ${key}=${value}`, (tx) => projects.addMetadataKey(target.id, key, value, tx));
      if (!added) throw new HarborError("CONFLICT", `metadata ${key} already exists; use PUT to change it`);
      return reply.code(200).send();
    });
  }

  const single = "/api/v2.0/projects/:nameOrId/metadatas/:metaName";
  app.get<{ Params: KeyParams }>(single, async (request) => {
    const { metadata } = await project(request, "read");
    const key = request.params.metaName;
    // Own keys only: the stored object still has a prototype ("constructor" is not a metadata key).
    if (!Object.hasOwn(metadata, key)) notFound(key);
    return { [key]: metadata[key] };
  });

  app.put<{ Params: KeyParams }>(single, async (request, reply) => {
    const target = await project(request, "update");
    const [key, value] = singleEntry(request);
    if (key !== request.params.metaName) throw new HarborError("BAD_REQUEST", `the key in the body (${key}) must be the one in the path (${request.params.metaName})`);
    const replaced = await changeMetadata(deps, request, target, `set metadata ${key}=${value}`, (tx) => projects.replaceMetadataKey(target.id, key, value, tx));
    if (!replaced) notFound(key);
    return reply.code(200).send();
  });

  app.delete<{ Params: KeyParams }>(single, async (request, reply) => {
    const target = await project(request, "delete");
    const key = request.params.metaName;
    // A key Berth never stores cannot be there; SQL need not see it (a NUL in it would fail there).
    if (!METADATA_KEYS.has(key)) notFound(key);
    const removed = await changeMetadata(deps, request, target, `delete metadata ${key}`, (tx) => projects.removeMetadataKey(target.id, key, tx));
    if (!removed) notFound(key);
    return reply.code(200).send();
  });
}
