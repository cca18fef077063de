import type { FastifyInstance } from "fastify";
import { canChooseProjectQuota, canCreateProject, highestFirst, ROLES, type RoleId } from "../auth/rbac";
import { systemTarget } from "../auth/refusal";
import type { ProjectCreationRule } from "../projects/creation-restriction";
import type { Queryable } from "../db/sql";
import type { Principal } from "../auth/principal";
import { actorOf } from "../audit/audit-log";
import {
  isValidProjectName,
  PROJECT_COLUMNS,
  PROJECT_RANGE_KINDS,
  PROJECT_SORT_KEYS,
  type ProjectFilter,
  type ProjectOrder,
  type ProjectRow,
  type ProjectSortKey,
} from "../projects/projects";
import { MAX_STORAGE_LIMIT, UNLIMITED } from "../quotas/quotas";
import type { Settings } from "../settings/settings";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { deny, projectFor, requireSystem, type ProjectAccessDeps } from "./project-access";
import { projectTarget } from "../auth/refusal";
import { changeMetadata, metadataPatch, normalizeMetadata, registerProjectMetadataRoutes, type ProjectRouteDeps } from "./project-metadata";
import { parseQuery, whereClause, type QueryTerm } from "./query";
import { parseAllowlist, type CveAllowlists } from "../scanning/allowlists";
import type { CveAllowlist } from "../scanning/report/pull-policy";
import { POLICY_FILES, type GitOpsStatus } from "../gitops/status";

type Params = { nameOrId: string };
type Query = Record<string, unknown>;

/** `managedByPolicy`: the policy file the GitOps controller manages the project from (Berth's extension), or null. */
function toApi(project: ProjectRow, roleIds: RoleId[], managedByPolicy: boolean) {
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
    current_user_role_id: roleIds[0] ?? 0,
    current_user_role_ids: roleIds,
    repo_count: project.repo_count,
    managed_by_policy: managedByPolicy ? POLICY_FILES.project : null,
    metadata: project.metadata,
    cve_allowlist: {
      id: project.cve_allowlist?.id ?? 0,
      project_id: project.id,
      items: project.cve_allowlist?.items ?? [],
      expires_at: project.cve_allowlist?.expires_at ?? null,
      creation_time: project.cve_allowlist?.creation_time ?? project.created_at,
      update_time: project.cve_allowlist?.update_time ?? project.updated_at,
    },
  };
}

export { toApi as projectToApi };

/** The caller's roles in the project, their groups' included, highest first; robots and anonymous callers hold none. */
async function roleIdsOf(deps: ProjectAccessDeps, principal: Principal, projectId: number): Promise<RoleId[]> {
  return principal.kind === "user" ? highestFirst(await deps.members.rolesOf(principal.id, projectId, principal.groups)) : [];
}


/**
 * ProjectReq.registry_id on create: a registry endpoint id makes the project a pull-through cache of it. Only those
 * who may choose quotas (system admins, system robots with project:create) may, as in Harbor.
 */
async function proxiedRegistryOf(db: Queryable, value: unknown, principal: Principal): Promise<number> {
  if (value === undefined || value === null || value === 0) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new HarborError("BAD_REQUEST", "registry_id must be a registry endpoint id");
  if (!canChooseProjectQuota(principal)) throw new HarborError("FORBIDDEN", "only system administrators can create proxy cache projects");
  const [row] = await db.query<{ id: number }>("SELECT id FROM registries WHERE id = $1", [value]);
  if (!row) throw new HarborError("BAD_REQUEST", `registry ${value} not found`);
  return value;
}

/** Who owns a new project: its creator, or for a robot the first system admin, as in Harbor. */
async function ownerFor(principal: Principal, tx: Queryable): Promise<number | null> {
  if (principal.kind === "user") return principal.id;
  const [first] = await tx.query<{ id: number }>("SELECT id FROM users WHERE sysadmin ORDER BY id LIMIT 1");
  return first?.id ?? null;
}

/**
 * ProjectReq.storage_limit on create. Harbor uses the default (storage_per_project, unlimited unless set) for 0,
 * absent, or a caller who may not choose.
 */
function storageLimitOf(value: unknown, principal: Principal, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new HarborError("BAD_REQUEST", "storage_limit must be an integer number of bytes");
  if (value === 0 || !canChooseProjectQuota(principal)) return fallback;
  const limit = value;
  if (limit !== UNLIMITED && (limit < 1 || limit > MAX_STORAGE_LIMIT)) {
    throw new HarborError("BAD_REQUEST", `storage_limit must be -1 (unlimited) or between 1 and ${MAX_STORAGE_LIMIT} bytes, got ${value}`);
  }
  return limit;
}

/** A `true`/`false` query parameter; undefined when absent, 400 for anything else. */
function booleanParam(query: Query, key: string): boolean | undefined {
  const value = queryString(query, key);
  if (value === undefined) return undefined;
  if (value !== "true" && value !== "false") throw new HarborError("BAD_REQUEST", `${key} must be true or false`);
  return value === "true";
}

/** The list's own parameters as q= terms: name= is fuzzy, public= and owner= are exact. */
function parameterTerms(query: Query): QueryTerm[] {
  const terms: QueryTerm[] = [];
  const name = queryString(query, "name");
  if (name) terms.push({ key: "name", kind: "fuzzy", value: name });
  const isPublic = booleanParam(query, "public");
  if (isPublic !== undefined) terms.push({ key: "public", kind: "exact", value: String(isPublic) });
  const owner = queryString(query, "owner");
  if (owner) terms.push({ key: "owner", kind: "exact", value: owner });
  return terms;
}

function listFilter(query: Query): ProjectFilter {
  const terms = [...parseQuery(queryString(query, "q"), Object.keys(PROJECT_COLUMNS)), ...parameterTerms(query)];
  const params: unknown[] = [];
  return { conditions: whereClause(terms, PROJECT_COLUMNS, params, PROJECT_RANGE_KINDS), params };
}

function isSortKey(key: string): key is ProjectSortKey {
  return (PROJECT_SORT_KEYS as string[]).includes(key);
}

/** `sort=name,-creation_time` (a leading `-` sorts descending); a key the list cannot sort by is a 400. */
function listOrder(sort: string | undefined): ProjectOrder[] {
  if (sort === undefined || sort === "") return [];
  return sort.split(",").map((field) => {
    const descending = field.startsWith("-");
    const key = descending ? field.slice(1) : field;
    if (!isSortKey(key)) throw new HarborError("BAD_REQUEST", `cannot sort projects by "${key}"; sort keys: ${PROJECT_SORT_KEYS.join(", ")}`);
    return { key, descending };
  });
}

/** PostgreSQL's "data exception" class: a q= value the column's type cannot hold, e.g. a time range given "abc". */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("22");
}

/** Runs a query built from the client's q=, turning a value of the wrong type into the client's 400. */
async function withClientValues<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isDataException(error)) throw new HarborError("BAD_REQUEST", `invalid value in q: ${(error as Error).message}`);
    throw error;
  }
}

function notEmptyMessage(project: ProjectRow): string {
  return `the project ${project.name} contains repositories and cannot be deleted`;
}

/** The summary's member counts, for callers who may list the members (as in Harbor). */
async function memberSummary(deps: ProjectAccessDeps, principal: Principal, project: ProjectRow) {
  if (!(await deps.authorizer.allows(principal, project, "member", "list"))) return {};
  const counts = await deps.projects.roleCounts(project.id);
  return {
    project_admin_count: counts[ROLES.projectAdmin],
    maintainer_count: counts[ROLES.maintainer],
    developer_count: counts[ROLES.developer],
    guest_count: counts[ROLES.guest],
    limited_guest_count: counts[ROLES.limitedGuest],
  };
}

/** The summary's quota, for callers who may read it (as in Harbor). */
async function quotaSummary(deps: ProjectAccessDeps, principal: Principal, project: ProjectRow) {
  if (!(await deps.authorizer.allows(principal, project, "quota", "read"))) return {};
  const used = await deps.projects.usedStorage(project.id);
  return { quota: { hard: { storage: project.storage_limit }, used: { storage: used } } };
}

/** ProjectReq.cve_allowlist: replaces the project's list when present (it counts when reuse_sys_cve_allowlist is "false"). */
function allowlistOf(value: unknown): CveAllowlist | null {
  if (value === undefined || value === null) return null;
  const list = parseAllowlist(value);
  if (typeof list === "string") throw new HarborError("BAD_REQUEST", `cve_allowlist: ${list}`);
  return list;
}

export function registerProjectRoutes(app: FastifyInstance, deps: ProjectRouteDeps & { creationRule: ProjectCreationRule; allowlists: CveAllowlists; gitops: GitOpsStatus; settings: Settings }): void {
  const { projects, members } = deps;
  app.post("/api/v2.0/projects", async (request, reply) => {
    if (!canCreateProject(request.principal, await deps.creationRule.current())) deny(request.principal, "create", systemTarget("project"));
    const body = jsonObjectBody(request);
    const name = body.project_name;
    if (typeof name !== "string" || name === "") throw new HarborError("BAD_REQUEST", "project_name is required");
    if (!isValidProjectName(name)) {
      throw new HarborError("BAD_REQUEST", "project name is not in lower case or contains illegal characters");
    }
    const metadata = normalizeMetadata(body.metadata, body.public);
    const allowlist = allowlistOf(body.cve_allowlist);
    const storageLimit = storageLimitOf(body.storage_limit, request.principal, await deps.settings.get("storage_per_project"));
    const registryId = await proxiedRegistryOf(deps.sql, body.registry_id, request.principal);
    // The creator administers the new project (Harbor); both rows or neither.
    const id = await deps.sql.transaction(async (tx) => {
      const ownerId = await ownerFor(request.principal, tx);
      const created = await projects.create({ name, ownerId, metadata, storageLimit, registryId }, tx);
      if (created === null) return null;
      if (ownerId !== null) await members.addUser(created, ownerId, ROLES.projectAdmin, tx);
      if (allowlist) await deps.allowlists.put(created, allowlist, tx);
      await deps.audit.record(tx, { projectId: created, operation: "create", resourceType: "project", resource: name }, actorOf(request));
      return created;
    });
    if (id === null) throw new HarborError("CONFLICT", `The project named ${name} already exists`);
    const byName = String(request.headers["x-resource-name-in-location"]).toLowerCase() === "true";
    return reply.code(201).header("Location", `/api/v2.0/projects/${byName ? name : id}`).send();
  });

  // Harbor's name check before a create: for logged-in callers only, so anonymous ones learn no private name.
  app.head("/api/v2.0/projects", async (request, reply) => {
    const name = queryString(request.query, "project_name");
    if (!name) throw new HarborError("BAD_REQUEST", "project_name is required");
    if (request.principal.kind === "anonymous") deny(request.principal, "read", projectTarget("project", name));
    const project = isValidProjectName(name) ? await projects.findByName(name) : null;
    return reply.code(project ? 200 : 404).send();
  });

  app.get("/api/v2.0/projects", async (request, reply) => {
    const query = request.query as Query;
    const page = paging(query);
    const principal = request.principal;
    booleanParam(query, "with_detail"); // accepted for Harbor's clients: every listing carries the details
    const { rows, total } = await withClientValues(() =>
      projects.list({
        visibleTo: deps.authorizer.visibility(principal),
        filter: listFilter(query),
        order: listOrder(queryString(query, "sort")),
        limit: page.pageSize,
        offset: (page.page - 1) * page.pageSize,
      }),
    );
    setPageHeaders(request, reply, page, total);
    const roles = principal.kind === "user" ? await members.rolesIn(principal.id, rows.map((p) => p.id), principal.groups) : new Map<number, RoleId[]>();
    const managed = await deps.gitops.managedProjects(rows.map((p) => p.name));
    return rows.map((project) => toApi(project, roles.get(project.id) ?? [], managed.has(project.name)));
  });

  app.get<{ Params: Params }>("/api/v2.0/projects/:nameOrId", async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "read");
    const managed = await deps.gitops.managedProjects([project.name]);
    return toApi(project, await roleIdsOf(deps, request.principal, project.id), managed.has(project.name));
  });

  // Harbor's PUT merges: metadata keys the body omits stay, and project_name, storage_limit and registry_id are ignored.
  app.put<{ Params: Params }>("/api/v2.0/projects/:nameOrId", async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "update");
    const body = jsonObjectBody(request);
    const patch = metadataPatch(body.metadata, body.public);
    const allowlist = allowlistOf(body.cve_allowlist);
    const description = `update project ${project.name}: metadata ${JSON.stringify(patch)}${allowlist ? `, CVE allowlist of ${allowlist.items.length}` : ""}`;
    const updated = await changeMetadata(deps, request, project, description, async (tx) => {
      const found = await projects.mergeMetadata(project.id, patch, tx);
      if (found && allowlist) await deps.allowlists.put(project.id, allowlist, tx);
      return found;
    });
    if (!updated) throw new HarborError("NOT_FOUND", `project ${request.params.nameOrId} not found`);
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/projects/:nameOrId", async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "delete");
    const entry = { projectId: project.id, operation: "delete", resourceType: "project", resource: project.name } as const;
    const deleted = await deps.audit.change(actorOf(request), entry, (tx) => projects.deleteIfEmpty(project.id, tx));
    if (!deleted) throw new HarborError("PRECONDITION", notEmptyMessage(project));
    // After the commit: a check running in between would otherwise cache the project again.
    projects.forgetRef(project.name);
    return reply.code(200).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/projects/:nameOrId/_deletable", async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "delete");
    return project.repo_count > 0 ? { deletable: false, message: notEmptyMessage(project) } : { deletable: true, message: "" };
  });

  app.get<{ Params: Params }>("/api/v2.0/projects/:nameOrId/summary", async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "project", "read");
    const [memberCounts, quota] = await Promise.all([
      memberSummary(deps, request.principal, project),
      quotaSummary(deps, request.principal, project),
    ]);
    return { repo_count: project.repo_count, ...memberCounts, ...quota };
  });

  registerProjectMetadataRoutes(app, deps);
}
