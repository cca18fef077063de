import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import type { Queryable } from "../db/sql";
import { LabelError, labelToApi, parseLabelFields, type LabelInput, type LabelRow, type Labels } from "../labels/labels";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { authorizeIn, deny, projectFor, requireSystem, type ProjectAccessDeps } from "./project-access";
import { parseQuery } from "./query";

export interface LabelRouteDeps extends ProjectAccessDeps {
  labels: Labels;
  audit: AuditLog;
}

type Params = { id: string };

export function positiveId(value: string, what: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new HarborError("BAD_REQUEST", `${what} must be a positive integer`);
  return Number(value);
}

function fields(body: Record<string, unknown>, current?: LabelInput): LabelInput {
  try {
    return parseLabelFields(body, current);
  } catch (error) {
    if (error instanceof LabelError) throw new HarborError("BAD_REQUEST", error.message);
    throw error;
  }
}

/** `q=name=x` (exact) or `q=name=~x` (contains), and Harbor's `name=` parameter (contains). */
function nameFilter(query: Record<string, unknown>): { exactName?: string; nameContains?: string } {
  const filter: { exactName?: string; nameContains?: string } = {};
  const name = queryString(query, "name");
  if (name) filter.nameContains = name;
  for (const term of parseQuery(queryString(query, "q"), ["name"])) {
    if (term.kind === "exact") filter.exactName = term.value;
    else if (term.kind === "fuzzy") filter.nameContains = term.value;
    else throw new HarborError("BAD_REQUEST", "q supports name=<name> and name=~<part> for labels");
  }
  return filter;
}

/**
 * /api/v2.0/labels: Harbor's labels. Global labels (scope g) are managed by system admins (system label:*) and seen
 * by every logged-in caller; project labels (scope p) follow the project's label permissions (projectAdmin and
 * maintainer manage them, members and, for public projects, everyone read them).
 */
export function registerLabelRoutes(app: FastifyInstance, deps: LabelRouteDeps): void {
  const { labels } = deps;

  /** Passes when the caller may do `action` on labels of `projectId`'s scope (null: global). */
  async function authorize(request: FastifyRequest, projectId: number | null, action: ActionName): Promise<void> {
    if (projectId !== null) {
      await authorizeIn(deps, request.principal, await deps.projects.findById(projectId), String(projectId), "label", action);
    } else if (action === "read" || action === "list") {
      if (request.principal.kind === "anonymous") deny(request.principal, action, "global labels");
    } else {
      requireSystem(request.principal, "label", action);
    }
  }

  async function labelFor(request: FastifyRequest<{ Params: Params }>, action: ActionName): Promise<LabelRow> {
    const label = await labels.get(positiveId(request.params.id, "label id"));
    if (!label) {
      if (request.principal.kind === "anonymous") deny(request.principal, action, "labels");
      throw new HarborError("NOT_FOUND", `label ${request.params.id} not found`);
    }
    await authorize(request, label.project_id, action);
    return label;
  }

  const audited = <T>(request: FastifyRequest, label: { name: string; project_id: number | null }, operation: AuditEntry["operation"], change: (tx: Queryable) => Promise<T>) =>
    deps.audit.change(actorOf(request), { projectId: label.project_id, operation, resourceType: "label", resource: label.name }, change);

  app.get("/api/v2.0/labels", async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const scope = queryString(query, "scope") ?? "g";
    if (scope !== "g" && scope !== "p") throw new HarborError("BAD_REQUEST", `invalid scope: ${scope} (g or p)`);
    let projectId: number | null = null;
    if (scope === "p") {
      const given = queryString(query, "project_id");
      if (!given) throw new HarborError("BAD_REQUEST", "must specify project_id for project labels");
      projectId = (await projectFor(deps, request, String(positiveId(given, "project_id")), "label", "list")).id;
    } else {
      await authorize(request, null, "list");
    }
    const page = paging(query);
    const { rows, total } = await labels.list({ projectId, ...nameFilter(query), limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    setPageHeaders(request, reply, page, total);
    return rows.map(labelToApi);
  });

  app.post("/api/v2.0/labels", async (request, reply) => {
    const body = jsonObjectBody(request);
    const scope = body.scope ?? "g";
    if (scope !== "g" && scope !== "p") throw new HarborError("BAD_REQUEST", 'scope must be "g" (global) or "p" (project)');
    let projectId: number | null = null;
    if (scope === "p") {
      if (!Number.isInteger(body.project_id) || (body.project_id as number) < 1) throw new HarborError("BAD_REQUEST", "project_id is required for a project label");
      projectId = (await projectFor(deps, request, String(body.project_id), "label", "create")).id;
    } else {
      await authorize(request, null, "create");
    }
    const input = fields(body);
    const id = await audited(request, { name: input.name, project_id: projectId }, "create", (tx) => labels.create(input, projectId, tx));
    if (id === null) throw new HarborError("CONFLICT", `a ${scope === "g" ? "global" : "project"} label named ${input.name} already exists`);
    return reply.code(201).header("Location", `/api/v2.0/labels/${id}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/labels/:id", async (request) => labelToApi(await labelFor(request, "read")));

  // Scope and project are fixed at creation (Harbor ignores them here); name, description and color change.
  app.put<{ Params: Params }>("/api/v2.0/labels/:id", async (request, reply) => {
    const label = await labelFor(request, "update");
    const input = fields(jsonObjectBody(request), label);
    if (!(await audited(request, label, "update", (tx) => labels.update(label.id, input, tx)))) {
      throw new HarborError("CONFLICT", `another label of this scope is named ${input.name}`);
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/labels/:id", async (request, reply) => {
    const label = await labelFor(request, "delete");
    await audited(request, label, "delete", (tx) => labels.delete(label.id, tx));
    return reply.code(200).send();
  });
}
