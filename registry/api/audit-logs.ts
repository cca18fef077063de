import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Queryable } from "../db/sql";
import { canSystem } from "../auth/rbac";
import { paging, queryString, setPageHeaders } from "./params";
import { deny, projectFor, requireSystem, type ProjectAccessDeps } from "./project-access";
import { AUDIT_EVENT_TYPES } from "../audit/purge-job";
import { systemTarget } from "../auth/refusal";
import { parseQuery, whereClause, type RangeKinds } from "./query";

const COLUMNS: Record<string, string> = {
  operation: "operation",
  resource: "resource",
  resource_type: "resource_type",
  username: "username",
  op_time: "op_time",
  change_ref: "change_ref",
};
const RANGES: RangeKinds = { op_time: "time" };

interface AuditRow {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  description: string;
  result: boolean;
  op_time: Date;
  client_ip: string;
  change_ref: string | null;
}

function toApi(row: AuditRow) {
  return {
    id: row.id,
    username: row.username,
    resource: row.resource,
    resource_type: row.resource_type,
    operation: row.operation,
    operation_description: row.description,
    operation_result: row.result,
    op_time: row.op_time,
    client_ip: row.client_ip,
    change_ref: row.change_ref,
  };
}

/** Lists records in `scope` (a SQL condition on project_id), newest first, filtered by `q`. */
async function list(db: Queryable, request: FastifyRequest, reply: FastifyReply, scope: { sql: string; params: unknown[] }) {
  const page = paging(request.query as Record<string, unknown>);
  const params = [...scope.params];
  const conditions = [scope.sql, ...whereClause(parseQuery(queryString(request.query, "q"), Object.keys(COLUMNS)), COLUMNS, params, RANGES)];
  const where = ` WHERE ${conditions.join(" AND ")}`;
  const [{ total }] = await db.query<{ total: number }>(`SELECT count(*)::int AS total FROM audit_logs${where}`, params);
  const rows = await db.query<AuditRow>(
    `SELECT * FROM audit_logs${where} ORDER BY op_time DESC, id DESC LIMIT ${page.pageSize} OFFSET ${(page.page - 1) * page.pageSize}`,
    params,
  );
  setPageHeaders(request, reply, page, total);
  return rows.map(toApi);
}

/**
 * GET /audit-logs (all for sysadmins; a user's projects where they hold log:list) and GET /projects/{p}/logs, each
 * also under Harbor 2.13's name (/auditlog-exts, /projects/{p}/auditlog-exts: the records already have the
 * AuditLogExt shape), and GET /auditlog-exts/events, the event types (what purgeaudit's include_event_types names).
 */
export function registerAuditRoutes(app: FastifyInstance, deps: ProjectAccessDeps & { sql: Queryable }): void {
  app.get("/api/v2.0/auditlog-exts/events", async (request) => {
    requireSystem(request.principal, "audit-log", "list");
    return AUDIT_EVENT_TYPES.map((eventType) => ({ event_type: eventType }));
  });

  const allLogs = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "list", systemTarget("audit-log"));
    if (canSystem(principal, "audit-log", "list")) return list(deps.sql, request, reply, { sql: "TRUE", params: [] });
    if (principal.kind === "robot" && principal.scopes.allProjects.has("log:list")) {
      return list(deps.sql, request, reply, { sql: "project_id IS NOT NULL", params: [] });
    }
    // Harbor: others see the logs of projects where they may list logs; none → empty, not 403.
    const candidates =
      principal.kind === "user" ? await deps.members.projectsOf(principal.id) : [...principal.scopes.projects.keys()];
    const projectIds: number[] = [];
    for (const projectId of candidates) {
      const project = await deps.projects.findById(projectId);
      if (project && (await deps.authorizer.allows(principal, project, "log", "list"))) projectIds.push(projectId);
    }
    return list(deps.sql, request, reply, { sql: "project_id = ANY($1::int[])", params: [projectIds] });
  };
  app.get("/api/v2.0/audit-logs", allLogs);
  app.get("/api/v2.0/auditlog-exts", allLogs);

  const projectLogs = async (request: FastifyRequest<{ Params: { nameOrId: string } }>, reply: FastifyReply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "log", "list");
    return list(deps.sql, request, reply, { sql: "project_id = $1", params: [project.id] });
  };
  app.get("/api/v2.0/projects/:nameOrId/logs", projectLogs);
  app.get("/api/v2.0/projects/:nameOrId/auditlog-exts", projectLogs);
}
