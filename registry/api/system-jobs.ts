import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { actorOf, type AuditLog, type AuditResourceType } from "../audit/audit-log";
import type { ActionName, SystemResource } from "../auth/rbac";
import type { ExecutionRow } from "../scheduler/executions";
import type { Scheduler } from "../scheduler/scheduler";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";
import { parseSchedule, scheduleView } from "./schedule-body";

/** A system-wide job Harbor exposes under /system/<name>: garbage collection, audit log purge. */
export interface SystemJob {
  /** e.g. /api/v2.0/system/gc */
  base: string;
  /** The scheduler's vendor type, and Harbor's job_name. */
  jobName: string;
  vendorId: number;
  /** The system permission its routes ask (list, read, create, update, stop). */
  resource: SystemResource;
  /** How messages and audit records name it: "gc", "purge audit". */
  noun: string;
  /** What it does, for audit descriptions: "garbage collection". */
  title: string;
  auditType: AuditResourceType;
  /** A run's or schedule's parameters as shown (defaults filled in). */
  parameters(extra: Record<string, unknown>): Record<string, unknown>;
  /** Checks a request's `parameters` (400 with the reason) and returns what runs are given. */
  parseParameters(parameters: Record<string, unknown>): Record<string, unknown>;
}

interface SystemJobRouteDeps {
  scheduler: Scheduler;
  audit: AuditLog;
}

/**
 * A system job's routes, as Harbor has them for GC and purgeaudit: GET <base> (runs), GET <base>/{id},
 * GET <base>/{id}/log, PUT <base>/{id} (stop), GET/POST/PUT <base>/schedule (a `Manual` schedule runs now).
 */
export function registerSystemJobRoutes(app: FastifyInstance, job: SystemJob, deps: SystemJobRouteDeps): void {
  const { scheduler } = deps;

  const toApi = (execution: ExecutionRow) => ({
    id: execution.id,
    job_name: job.jobName,
    job_kind: execution.trigger === "SCHEDULE" ? "SCHEDULE" : "MANUAL",
    job_parameters: JSON.stringify(job.parameters(execution.extra_attrs)),
    job_status: execution.status,
    status_message: execution.status_message,
    metrics: execution.metrics,
    deleted: false,
    creation_time: execution.start_time,
    update_time: execution.end_time ?? execution.start_time,
  });

  const requireJob = (request: FastifyRequest, action: ActionName) => requireSystem(request.principal, job.resource, action);

  const find = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    if (!/^\d{1,9}$/.test(request.params.id)) throw new HarborError("BAD_REQUEST", `${job.noun} id must be a positive integer`);
    const execution = await scheduler.executions.get(Number(request.params.id));
    if (!execution || execution.vendor_type !== job.jobName) throw new HarborError("NOT_FOUND", `${job.noun} ${request.params.id} not found`);
    return execution;
  };

  /** `{schedule: {type, cron}, parameters}` → the cron (null: none, "manual": run now) and the run's parameters. */
  const parseScheduleBody = (body: Record<string, unknown>) => {
    const parameters = body.parameters ?? {};
    if (!isJsonObject(parameters)) throw new HarborError("BAD_REQUEST", "parameters must be an object");
    const cron = parseSchedule(body.schedule);
    // Removing the schedule (None) needs no parameters: there is nothing left to run with them.
    return { cron, parameters: cron === null ? {} : job.parseParameters(parameters) };
  };

  app.get(job.base, async (request, reply) => {
    requireJob(request, "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await scheduler.executions.list(job.jobName, job.vendorId, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { id: string } }>(`${job.base}/:id`, async (request) => {
    requireJob(request, "read");
    return toApi(await find(request));
  });

  app.get<{ Params: { id: string } }>(`${job.base}/:id/log`, async (request, reply) => {
    requireJob(request, "read");
    const execution = await find(request);
    return reply.type("text/plain; charset=utf-8").send(await scheduler.executions.log(execution.id));
  });

  // Harbor: PUT <base>/{id} stops a running execution.
  app.put<{ Params: { id: string } }>(`${job.base}/:id`, async (request, reply) => {
    requireJob(request, "stop");
    const execution = await find(request);
    if (!(await scheduler.requestStop(execution.id))) throw new HarborError("PRECONDITION", `${job.noun} ${execution.id} is not running`);
    return reply.code(200).send();
  });

  app.get(`${job.base}/schedule`, async (request) => {
    requireJob(request, "read");
    const schedule = await scheduler.scheduleOf(job.jobName, job.vendorId);
    return {
      schedule: scheduleView(schedule),
      job_parameters: JSON.stringify(job.parameters(schedule?.params ?? {})),
      update_time: schedule?.updated_at ?? null,
    };
  });

  const setSchedule = async (request: FastifyRequest, reply: FastifyReply, status: number) => {
    requireJob(request, request.method === "POST" ? "create" : "update");
    const { cron, parameters } = parseScheduleBody(jsonObjectBody(request));
    const actor = actorOf(request);
    if (cron === "manual") {
      const id = await scheduler.run(job.jobName, job.vendorId, "MANUAL", parameters);
      deps.audit.queue({ projectId: null, operation: "create", resourceType: job.auditType, resource: `${job.noun} ${id}`, description: `run ${job.title} ${JSON.stringify(parameters)}` }, actor);
      return reply.code(201).header("Location", `${job.base}/${id}`).send();
    }
    await scheduler.setSchedule(job.jobName, job.vendorId, cron, parameters);
    deps.audit.queue({ projectId: null, operation: "update", resourceType: job.auditType, resource: `${job.noun} schedule`, description: `set the ${job.title} schedule to ${cron ?? "none"}` }, actor);
    return reply.code(status).send();
  };
  app.post(`${job.base}/schedule`, (request, reply) => setSchedule(request, reply, 201));
  app.put(`${job.base}/schedule`, (request, reply) => setSchedule(request, reply, 200));
}
