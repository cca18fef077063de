import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { parseRetentionPolicy, RetentionPolicyError, TEMPLATES, type RetentionPolicyBody } from "../retention/policy";
import { parseDecisionTable, RETENTION_JOB } from "../retention/job";
import type { RetentionStore, StoredPolicy } from "../retention/store";
import type { ExecutionRow } from "../scheduler/executions";
import type { Scheduler } from "../scheduler/scheduler";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, setPageHeaders } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";

export interface RetentionRouteDeps extends ProjectAccessDeps {
  retention: RetentionStore;
  scheduler: Scheduler;
  audit: AuditLog;
}

type Params = { id: string };
type ExecutionParams = Params & { eid: string };

const TEMPLATE_TEXT: Record<string, [string, string | null]> = {
  latestPushedK: ["the most recently pushed # artifacts", "COUNT"],
  latestPulledN: ["the most recently pulled # artifacts", "COUNT"],
  nDaysSinceLastPush: ["pushed within the last # days", "DAYS"],
  nDaysSinceLastPull: ["pulled within the last # days", "DAYS"],
  always: ["always", null],
};

/** Whether the request's Accept names application/json and not text/plain before it. */
function prefersJson(request: FastifyRequest): boolean {
  const accept = (request.headers.accept ?? "").toLowerCase();
  const json = accept.indexOf("application/json");
  const text = accept.indexOf("text/plain");
  return json !== -1 && (text === -1 || json < text);
}

function numeric(value: string, what: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new HarborError("BAD_REQUEST", `${what} must be a positive integer`);
  return Number(value);
}

function parseBody(request: FastifyRequest): RetentionPolicyBody {
  try {
    return parseRetentionPolicy(jsonObjectBody(request));
  } catch (error) {
    if (error instanceof RetentionPolicyError) throw new HarborError(error.conflict ? "CONFLICT" : "BAD_REQUEST", error.message);
    throw error;
  }
}

function toApi(stored: StoredPolicy) {
  return { id: stored.id, ...stored.policy };
}

function executionToApi(execution: ExecutionRow) {
  return {
    id: execution.id,
    policy_id: execution.vendor_id,
    start_time: execution.start_time,
    end_time: execution.end_time,
    status: execution.status,
    status_message: execution.status_message,
    trigger: execution.trigger,
    dry_run: execution.extra_attrs.dry_run === true,
  };
}

/** /api/v2.0/retentions: Harbor's tag retention policies and their runs (project permission tag-retention). */
export function registerRetentionRoutes(app: FastifyInstance, deps: RetentionRouteDeps): void {
  const { retention, scheduler } = deps;

  /** The policy `id` when the caller may do `action` on its project's tag-retention; 404 when there is none. */
  async function policyFor(request: FastifyRequest<{ Params: Params }>, action: ActionName) {
    const stored = await retention.get(numeric(request.params.id, "retention id"));
    if (!stored) throw new HarborError("NOT_FOUND", `retention policy ${request.params.id} not found`);
    const project = await projectFor(deps, request, String(stored.project_id), "tag-retention", action);
    return { stored, project };
  }

  async function executionFor(request: FastifyRequest<{ Params: ExecutionParams }>, action: ActionName) {
    const { stored } = await policyFor(request, action);
    const execution = await scheduler.executions.get(numeric(request.params.eid, "execution id"));
    if (!execution || execution.vendor_type !== RETENTION_JOB || execution.vendor_id !== stored.id) {
      throw new HarborError("NOT_FOUND", `execution ${request.params.eid} not found`);
    }
    return execution;
  }

  const schedule = (id: number, policy: RetentionPolicyBody) => scheduler.setSchedule(RETENTION_JOB, id, policy.trigger.settings.cron || null, { dry_run: false });

  app.get("/api/v2.0/retentions/metadatas", async () => ({
    templates: TEMPLATES.map((rule_template) => {
      const [display_text, unit] = TEMPLATE_TEXT[rule_template];
      return { rule_template, display_text, action: "retain", params: unit ? [{ type: "int", unit, required: true }] : [] };
    }),
    scope_selectors: [{ display_text: "Repositories", kind: "doublestar", decorations: ["repoMatches", "repoExcludes"] }],
    tag_selectors: [
      { display_text: "Tags", kind: "doublestar", decorations: ["matches", "excludes"] },
      { display_text: "Labels", kind: "label", decorations: ["withLabels", "withoutLabels"] },
    ],
  }));

  app.post("/api/v2.0/retentions", async (request, reply) => {
    const policy = parseBody(request);
    const project = await projectFor(deps, request, String(policy.scope.ref), "tag-retention", "create");
    const existing = await retention.ofProject(project.id);
    if (existing) throw new HarborError("BAD_REQUEST", `project ${project.id} already has retention policy ${existing.id}`);
    const entry = { projectId: project.id, operation: "create", resourceType: "retention-policy", resource: project.name } as const;
    const id = await deps.audit.change(actorOf(request), entry, (tx) => retention.create(policy, tx));
    if (id === null) throw new HarborError("BAD_REQUEST", `project ${project.id} already has a retention policy`);
    deps.projects.forgetRef(project.name);
    await schedule(id, policy);
    return reply.code(201).header("Location", `/api/v2.0/retentions/${id}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/retentions/:id", async (request) => toApi((await policyFor(request, "read")).stored));

  app.put<{ Params: Params }>("/api/v2.0/retentions/:id", async (request, reply) => {
    const { stored, project } = await policyFor(request, "update");
    const policy = parseBody(request);
    if (policy.scope.ref !== stored.project_id) throw new HarborError("BAD_REQUEST", "a retention policy cannot move to another project");
    const entry = { projectId: project.id, operation: "update", resourceType: "retention-policy", resource: project.name } as const;
    await deps.audit.change(actorOf(request), entry, (tx) => retention.update(stored.id, policy, tx));
    await schedule(stored.id, policy);
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/retentions/:id", async (request, reply) => {
    const { stored, project } = await policyFor(request, "delete");
    const entry = { projectId: project.id, operation: "delete", resourceType: "retention-policy", resource: project.name } as const;
    await deps.audit.change(actorOf(request), entry, (tx) => retention.delete(stored.id, project.id, tx));
    deps.projects.forgetRef(project.name);
    await scheduler.setSchedule(RETENTION_JOB, stored.id, null);
    return reply.code(200).send();
  });

  // Harbor: triggering a run needs tag-retention update (maintainers and project admins here, see rbac.ts).
  app.post<{ Params: Params }>("/api/v2.0/retentions/:id/executions", async (request, reply) => {
    const { stored } = await policyFor(request, "update");
    const body = request.body === undefined || request.body === null ? {} : jsonObjectBody(request);
    if (body.dry_run !== undefined && typeof body.dry_run !== "boolean") throw new HarborError("BAD_REQUEST", "dry_run must be a boolean");
    const id = await scheduler.run(RETENTION_JOB, stored.id, "MANUAL", { dry_run: body.dry_run === true });
    return reply.code(201).header("Location", `/api/v2.0/retentions/${stored.id}/executions/${id}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/retentions/:id/executions", async (request, reply) => {
    const { stored } = await policyFor(request, "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await scheduler.executions.list(RETENTION_JOB, stored.id, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(executionToApi);
  });

  app.patch<{ Params: ExecutionParams }>("/api/v2.0/retentions/:id/executions/:eid", async (request, reply) => {
    const execution = await executionFor(request, "update");
    const body = jsonObjectBody(request);
    if (!isJsonObject(body) || body.action !== "stop") throw new HarborError("BAD_REQUEST", 'action must be "stop"');
    if (!(await scheduler.requestStop(execution.id))) throw new HarborError("PRECONDITION", `execution ${execution.id} is not running`);
    return reply.code(200).send();
  });

  app.get<{ Params: ExecutionParams }>("/api/v2.0/retentions/:id/executions/:eid/tasks", async (request, reply) => {
    const execution = await executionFor(request, "list");
    const tasks = await retention.tasks(execution.id);
    reply.header("X-Total-Count", tasks.length);
    return tasks.map(({ log: _log, ...task }) => ({ ...task, job_id: "", status_code: 0 }));
  });

  app.get<{ Params: ExecutionParams & { tid: string } }>("/api/v2.0/retentions/:id/executions/:eid/tasks/:tid", async (request, reply) => {
    const execution = await executionFor(request, "read");
    const task = (await retention.tasks(execution.id)).find((t) => t.id === numeric(request.params.tid, "task id"));
    if (!task) throw new HarborError("NOT_FOUND", `task ${request.params.tid} not found`);
    // Harbor answers the log as text; a client that asks for JSON (Berth's extension) gets the table as rows.
    if (prefersJson(request)) return { id: task.id, repository: task.repository, status: task.status, decisions: parseDecisionTable(task.log) };
    return reply.type("text/plain; charset=utf-8").send(task.log);
  });
}
