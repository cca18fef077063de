import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { GC_JOB, GC_VENDOR_ID, gcParameters } from "../gc/job";
import type { ExecutionRow } from "../scheduler/executions";
import type { Scheduler } from "../scheduler/scheduler";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";
import { parseSchedule, scheduleView } from "./schedule-body";

interface GcRouteDeps {
  scheduler: Scheduler;
  audit: AuditLog;
}


function toApi(execution: ExecutionRow) {
  return {
    id: execution.id,
    job_name: GC_JOB,
    job_kind: execution.trigger === "SCHEDULE" ? "SCHEDULE" : "MANUAL",
    job_parameters: JSON.stringify(gcParameters(execution.extra_attrs)),
    job_status: execution.status,
    status_message: execution.status_message,
    metrics: execution.metrics,
    deleted: false,
    creation_time: execution.start_time,
    update_time: execution.end_time ?? execution.start_time,
  };
}

function requireGc(request: FastifyRequest, action: ActionName): void {
  requireSystem(request.principal, "garbage-collection", action);
}

function gcId(request: FastifyRequest<{ Params: { id: string } }>): number {
  if (!/^\d{1,9}$/.test(request.params.id)) throw new HarborError("BAD_REQUEST", "gc id must be a positive integer");
  return Number(request.params.id);
}

/** `{schedule: {type, cron}, parameters: {delete_untagged, dry_run}}` → the cron (null: none, "manual": run now). */
function parseScheduleBody(body: Record<string, unknown>): { cron: string | null | "manual"; parameters: Record<string, unknown> } {
  const parameters = body.parameters ?? {};
  if (!isJsonObject(parameters)) throw new HarborError("BAD_REQUEST", "parameters must be an object");
  for (const key of ["delete_untagged", "dry_run"]) {
    if (parameters[key] !== undefined && typeof parameters[key] !== "boolean") throw new HarborError("BAD_REQUEST", `parameters.${key} must be a boolean`);
  }
  return { cron: parseSchedule(body.schedule), parameters: { ...gcParameters(parameters) } };
}

/** /api/v2.0/system/gc: runs, schedule, logs and stops of garbage collection (system admins). */
export function registerGcRoutes(app: FastifyInstance, deps: GcRouteDeps): void {
  const { scheduler } = deps;

  const find = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const execution = await scheduler.executions.get(gcId(request));
    if (!execution || execution.vendor_type !== GC_JOB) throw new HarborError("NOT_FOUND", `gc ${request.params.id} not found`);
    return execution;
  };

  app.get("/api/v2.0/system/gc", async (request, reply) => {
    requireGc(request, "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await scheduler.executions.list(GC_JOB, GC_VENDOR_ID, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { id: string } }>("/api/v2.0/system/gc/:id", async (request) => {
    requireGc(request, "read");
    return toApi(await find(request));
  });

  app.get<{ Params: { id: string } }>("/api/v2.0/system/gc/:id/log", async (request, reply) => {
    requireGc(request, "read");
    const execution = await find(request);
    return reply.type("text/plain; charset=utf-8").send(await scheduler.executions.log(execution.id));
  });

  // Harbor: PUT /system/gc/{id} stops a running collection.
  app.put<{ Params: { id: string } }>("/api/v2.0/system/gc/:id", async (request, reply) => {
    requireGc(request, "stop");
    const execution = await find(request);
    if (!(await scheduler.requestStop(execution.id))) throw new HarborError("PRECONDITION", `gc ${execution.id} is not running`);
    return reply.code(200).send();
  });

  app.get("/api/v2.0/system/gc/schedule", async (request) => {
    requireGc(request, "read");
    const schedule = await scheduler.scheduleOf(GC_JOB, GC_VENDOR_ID);
    return {
      schedule: scheduleView(schedule),
      job_parameters: JSON.stringify(gcParameters(schedule?.params ?? {})),
      update_time: schedule?.updated_at ?? null,
    };
  });

  const setSchedule = async (request: FastifyRequest, reply: FastifyReply, status: number) => {
    requireGc(request, request.method === "POST" ? "create" : "update");
    const { cron, parameters } = parseScheduleBody(jsonObjectBody(request));
    const actor = actorOf(request);
    if (cron === "manual") {
      const id = await scheduler.run(GC_JOB, GC_VENDOR_ID, "MANUAL", parameters);
      deps.audit.queue({ projectId: null, operation: "create", resourceType: "gc", resource: `gc ${id}`, description: `run garbage collection ${JSON.stringify(parameters)}` }, actor);
      return reply.code(201).header("Location", `/api/v2.0/system/gc/${id}`).send();
    }
    await scheduler.setSchedule(GC_JOB, GC_VENDOR_ID, cron, parameters);
    deps.audit.queue({ projectId: null, operation: "update", resourceType: "gc", resource: "gc schedule", description: `set the garbage collection schedule to ${cron ?? "none"}` }, actor);
    return reply.code(status).send();
  };
  app.post("/api/v2.0/system/gc/schedule", (request, reply) => setSchedule(request, reply, 201));
  app.put("/api/v2.0/system/gc/schedule", (request, reply) => setSchedule(request, reply, 200));
}
