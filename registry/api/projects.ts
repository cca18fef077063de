import type { FastifyInstance } from "fastify";
import { canSystem, ROLES } from "../auth/rbac";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { Sql } from "../db/sql";
import { isValidProjectName, type ProjectRow } from "../projects/projects";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { deny, projectFor, type ProjectAccessDeps } from "./project-access";

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

/** Validates ProjectReq.metadata; values are strings ("true"/"false" for flags), as in Harbor. */
export function normalizeMetadata(input: unknown, legacyPublic: unknown): Record<string, string> {
  if (input !== undefined && input !== null && !isJsonObject(input)) throw new HarborError("BAD_REQUEST", "metadata must be an object");
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (!METADATA_KEYS.has(key)) continue; // Harbor drops keys that do not apply
    if (typeof value !== "string") throw new HarborError("BAD_REQUEST", `metadata.${key} must be a string`);
    const lowered = value.toLowerCase();
    if (BOOLEAN_KEYS.has(key) && lowered !== "true" && lowered !== "false") {
      throw new HarborError("BAD_REQUEST", `metadata.${key} must be "true" or "false", got "${value}"`);
    }
    if (key === "severity" && !SEVERITIES.has(lowered)) {
      throw new HarborError("BAD_REQUEST", `metadata.severity must be one of ${[...SEVERITIES].join(", ")}`);
    }
    metadata[key] = lowered;
  }
  if (metadata.public === undefined) {
    if (legacyPublic !== undefined && legacyPublic !== null && typeof legacyPublic !== "boolean") {
      throw new HarborError("BAD_REQUEST", "public must be a boolean");
    }
    metadata.public = legacyPublic === true ? "true" : "false";
  }
  return metadata;
}


function toApi(project: ProjectRow) {
  return {
    project_id: project.id,
    owner_id: project.owner_id ?? 0,
    owner_name: project.owner_name ?? "",
    name: project.name,
    registry_id: project.registry_id,
    creation_time: project.created_at,
    update_time: project.updated_at,
    deleted: false,
    togglable: true,
    repo_count: project.repo_count,
    metadata: project.metadata,
    cve_allowlist: { id: 0, project_id: project.id, items: [], creation_time: project.created_at, update_time: project.updated_at },
  };
}

export function registerProjectRoutes(app: FastifyInstance, deps: ProjectAccessDeps & { sql: Sql; audit: AuditLog }): void {
  const { projects, members } = deps;
  app.post("/api/v2.0/projects", async (request, reply) => {
    if (!canSystem(request.principal, "project", "create")) deny(request.principal);
    const body = jsonObjectBody(request);
    const name = body.project_name;
    if (typeof name !== "string" || name === "") throw new HarborError("BAD_REQUEST", "project_name is required");
    if (!isValidProjectName(name)) {
      throw new HarborError("BAD_REQUEST", "project name is not in lower case or contains illegal characters");
    }
    const metadata = normalizeMetadata(body.metadata, body.public);
    const ownerId = request.principal.kind === "user" ? request.principal.id : null;
    // The creator administers the new project (Harbor); both rows or neither.
    const id = await deps.sql.transaction(async (tx) => {
      const created = await projects.create({ name, ownerId, metadata }, tx);
      if (created === null) return null;
      if (ownerId !== null) await members.addUser(created, ownerId, ROLES.projectAdmin, tx);
      await deps.audit.record(tx, { projectId: created, operation: "create", resourceType: "project", resource: name }, actorOf(request));
      return created;
    });
    if (id === null) throw new HarborError("CONFLICT", `The project named ${name} already exists`);
    const byName = String(request.headers["x-resource-name-in-location"]).toLowerCase() === "true";
    return reply.code(201).header("Location", `/api/v2.0/projects/${byName ? name : id}`).send();
  });

  app.head("/api/v2.0/projects", async (request, reply) => {
    const name = queryString(request.query, "project_name");
    if (!name) throw new HarborError("BAD_REQUEST", "project_name is required");
    const project = isValidProjectName(name) ? await projects.findByName(name) : null;
    return reply.code(project ? 200 : 404).send();
  });

  app.get("/api/v2.0/projects", async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const page = paging(query);
    const principal = request.principal;
    const { rows, total } = await projects.list({
      visibleTo: deps.authorizer.visibility(principal),
      name: queryString(query, "name"),
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId", async (request) =>
    toApi(await projectFor(deps, request, request.params.nameOrId, "project", "read")),
  );

  app.delete<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId", async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "delete");
    const entry = { projectId: project.id, operation: "delete", resourceType: "project", resource: project.name } as const;
    const deleted = await deps.audit.change(actorOf(request), entry, (tx) => projects.deleteIfEmpty(project.id, tx));
    if (!deleted) {
      throw new HarborError("PRECONDITION", `the project ${project.name} contains repositories and cannot be deleted`);
    }
    return reply.code(200).send();
  });
}
