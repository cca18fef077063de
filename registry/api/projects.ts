import type { FastifyInstance, FastifyRequest } from "fastify";
import { can } from "../auth/rbac";
import type { Principal } from "../auth/principal";
import { isPublic, isValidProjectName, type ProjectRow, type ProjectStore } from "../projects/projects";
import { HarborError } from "./errors";
import { paging, setPageHeaders } from "./params";

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates ProjectReq.metadata; values are strings ("true"/"false" for flags), as in Harbor. */
export function normalizeMetadata(input: unknown, legacyPublic: unknown): Record<string, string> {
  if (input !== undefined && input !== null && !isRecord(input)) throw new HarborError("BAD_REQUEST", "metadata must be an object");
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

/** A single-valued query parameter; a repeated one or one with NUL (which SQL text refuses) is a bad request. */
function queryString(query: unknown, key: string): string | undefined {
  const value = (query as Record<string, unknown>)[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.includes("\0")) {
    throw new HarborError("BAD_REQUEST", `${key} must be given once, without NUL characters`);
  }
  return value;
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

function deny(principal: Principal): never {
  if (principal.kind === "anonymous") throw new HarborError("UNAUTHORIZED", "authentication required");
  throw new HarborError("FORBIDDEN", "forbidden");
}

/** Resolves `{project_name_or_id}` as Harbor does (X-Is-Resource-Name forces a name). */
async function resolveProject(projects: ProjectStore, request: FastifyRequest, nameOrId: string): Promise<ProjectRow | null> {
  const forcedName = String(request.headers["x-is-resource-name"]).toLowerCase() === "true";
  if (!forcedName && /^\d{1,9}$/.test(nameOrId)) return projects.findById(Number(nameOrId));
  if (/\s/.test(nameOrId)) throw new HarborError("BAD_REQUEST", "project name must not contain spaces");
  // A name outside the naming rule cannot exist; asking the database could fail on it (NUL) instead.
  return isValidProjectName(nameOrId) ? projects.findByName(nameOrId) : null;
}

/** A project the caller may `action`; otherwise 401/403 without telling whether it exists (404 to admins). */
async function projectFor(projects: ProjectStore, request: FastifyRequest, nameOrId: string, action: "read-project" | "delete-project") {
  const project = await resolveProject(projects, request, nameOrId);
  const principal = request.principal;
  if (project && can(principal, action, { public: isPublic(project) })) return project;
  if (!project && principal.kind === "user" && principal.sysadmin) {
    throw new HarborError("NOT_FOUND", `project ${nameOrId} not found`);
  }
  deny(principal);
}

export function registerProjectRoutes(app: FastifyInstance, projects: ProjectStore): void {
  app.post("/api/v2.0/projects", async (request, reply) => {
    if (!can(request.principal, "create-project", null)) deny(request.principal);
    const body = request.body;
    if (!isRecord(body)) throw new HarborError("BAD_REQUEST", "request body must be a JSON object");
    const name = body.project_name;
    if (typeof name !== "string" || name === "") throw new HarborError("BAD_REQUEST", "project_name is required");
    if (!isValidProjectName(name)) {
      throw new HarborError("BAD_REQUEST", "project name is not in lower case or contains illegal characters");
    }
    const metadata = normalizeMetadata(body.metadata, body.public);
    const ownerId = request.principal.kind === "user" ? request.principal.id : null;
    const id = await projects.create({ name, ownerId, metadata });
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
      publicOnly: !(principal.kind === "user" && principal.sysadmin),
      name: queryString(query, "name"),
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId", async (request) =>
    toApi(await projectFor(projects, request, request.params.nameOrId, "read-project")),
  );

  app.delete<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId", async (request, reply) => {
    const project = await projectFor(projects, request, request.params.nameOrId, "delete-project");
    if (!(await projects.deleteIfEmpty(project.id))) {
      throw new HarborError("PRECONDITION", `the project ${project.name} contains repositories and cannot be deleted`);
    }
    return reply.code(200).send();
  });
}
