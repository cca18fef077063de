import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { MAX_STORAGE_LIMIT, UNLIMITED, type ProjectQuotas, type QuotaRow } from "../quotas/quotas";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";

interface QuotaRouteDeps {
  quotas: ProjectQuotas;
  audit: AuditLog;
}

// Harbor's quota sort keys, and the columns they order by.
const SORT_COLUMNS: Record<string, string> = {
  "hard.storage": "storage_limit",
  "used.storage": "used",
  creation_time: "created_at",
  update_time: "updated_at",
};

function toApi(row: QuotaRow) {
  return {
    id: row.project_id,
    ref: { id: row.project_id, name: row.project_name, owner_name: row.owner_name ?? "" },
    hard: { storage: row.storage_limit },
    used: { storage: row.used },
    creation_time: row.created_at,
    update_time: row.updated_at,
  };
}

function orderOf(sort: string | undefined): string {
  if (!sort) return "project_id";
  const terms = sort.split(",").map((field) => {
    const descending = field.startsWith("-");
    const column = SORT_COLUMNS[descending ? field.slice(1) : field];
    if (!column) throw new HarborError("BAD_REQUEST", `cannot sort quotas by "${field}"; sort keys: ${Object.keys(SORT_COLUMNS).join(", ")}`);
    return `${column} ${descending ? "DESC" : "ASC"}`;
  });
  return [...terms, "project_id"].join(", ");
}

function quotaId(request: FastifyRequest<{ Params: { id: string } }>): number {
  if (!/^\d{1,9}$/.test(request.params.id)) throw new HarborError("BAD_REQUEST", "quota id must be a positive integer");
  return Number(request.params.id);
}

/** Quotas are a system resource: sysadmins and system robots granted quota:<action> (project admins read theirs via the summary). */
function requireQuota(request: FastifyRequest, action: ActionName): void {
  requireSystem(request.principal, "quota", action);
}

/** /api/v2.0/quotas: one storage quota per project (its id is the project's). */
export function registerQuotaRoutes(app: FastifyInstance, deps: QuotaRouteDeps): void {
  app.get("/api/v2.0/quotas", async (request, reply) => {
    requireQuota(request, "list");
    const query = request.query as Record<string, unknown>;
    const reference = queryString(query, "reference");
    if (reference !== undefined && reference !== "project") throw new HarborError("BAD_REQUEST", 'reference must be "project"');
    const referenceId = queryString(query, "reference_id");
    if (referenceId !== undefined && !/^\d{1,9}$/.test(referenceId)) throw new HarborError("BAD_REQUEST", "reference_id must be a positive integer");
    const page = paging(query);
    const { rows, total } = await deps.quotas.list({
      projectId: referenceId === undefined ? undefined : Number(referenceId),
      order: orderOf(queryString(query, "sort")),
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { id: string } }>("/api/v2.0/quotas/:id", async (request) => {
    requireQuota(request, "read");
    const quota = await deps.quotas.get(quotaId(request));
    if (!quota) throw new HarborError("NOT_FOUND", `quota ${request.params.id} not found`);
    return toApi(quota);
  });

  app.put<{ Params: { id: string } }>("/api/v2.0/quotas/:id", async (request, reply) => {
    requireQuota(request, "update");
    const id = quotaId(request);
    const hard = jsonObjectBody(request).hard;
    const storage = isJsonObject(hard) ? hard.storage : undefined;
    if (typeof storage !== "number" || !Number.isSafeInteger(storage) || (storage !== UNLIMITED && (storage < 1 || storage > MAX_STORAGE_LIMIT))) {
      throw new HarborError("BAD_REQUEST", `hard.storage must be -1 (unlimited) or between 1 and ${MAX_STORAGE_LIMIT} bytes`);
    }
    const quota = await deps.quotas.get(id);
    if (!quota) throw new HarborError("NOT_FOUND", `quota ${id} not found`);
    const entry = {
      projectId: id,
      operation: "update",
      resourceType: "project",
      resource: quota.project_name,
      description: `set storage quota of ${quota.project_name} to ${storage}`,
    } as const;
    await deps.audit.change(actorOf(request), entry, (tx) => deps.quotas.setLimit(id, storage, tx));
    return reply.code(200).send();
  });
}
