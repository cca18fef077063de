import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import { SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID, scanAllStats } from "../scanning/scan-all";
import type { ScanStore } from "../scanning/scan-store";
import type { Scheduler } from "../scheduler/scheduler";
import { HarborError } from "./errors";
import { jsonObjectBody } from "./params";
import { requireSystem } from "./project-access";
import { parseSchedule, scheduleView } from "./schedule-body";

/** Harbor's scan all: its schedule, a run by hand, its stop, and the progress of the latest run. */
export function registerScanAllRoutes(app: FastifyInstance, deps: { scheduler: Scheduler; scans: ScanStore; audit: AuditLog }): void {
  const { scheduler } = deps;

  app.get("/api/v2.0/system/scanAll/schedule", async (request) => {
    requireSystem(request.principal, "scan-all", "read");
    const schedule = await scheduler.scheduleOf(SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID);
    return { schedule: scheduleView(schedule), update_time: schedule?.updated_at ?? null };
  });

  const setSchedule = async (request: FastifyRequest, reply: FastifyReply, status: number) => {
    requireSystem(request.principal, "scan-all", request.method === "POST" ? "create" : "update");
    const cron = parseSchedule(jsonObjectBody(request).schedule);
    const actor = actorOf(request);
    if (cron === "manual") {
      const id = await scheduler.run(SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID, "MANUAL");
      deps.audit.queue({ projectId: null, operation: "create", resourceType: "scan", resource: `scan all ${id}`, description: "scan all artifacts" }, actor);
      return reply.code(201).send();
    }
    await scheduler.setSchedule(SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID, cron);
    deps.audit.queue({ projectId: null, operation: "update", resourceType: "scan", resource: "scan all schedule", description: `set the scan all schedule to ${cron ?? "none"}` }, actor);
    return reply.code(status).send();
  };
  app.post("/api/v2.0/system/scanAll/schedule", (request, reply) => setSchedule(request, reply, 201));
  app.put("/api/v2.0/system/scanAll/schedule", (request, reply) => setSchedule(request, reply, 200));

  app.post("/api/v2.0/system/scanAll/stop", async (request, reply) => {
    requireSystem(request.principal, "scan-all", "stop");
    const { rows } = await scheduler.executions.list(SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID, 1, 0);
    if (!rows[0] || !(await scheduler.requestStop(rows[0].id))) throw new HarborError("BAD_REQUEST", "no scan all is running");
    return reply.code(202).send();
  });

  app.get("/api/v2.0/scans/all/metrics", async (request) => {
    requireSystem(request.principal, "scan-all", "read");
    return scanAllStats(scheduler, deps.scans, null);
  });

  app.get("/api/v2.0/scans/schedule/metrics", async (request) => {
    requireSystem(request.principal, "scan-all", "read");
    return scanAllStats(scheduler, deps.scans, "SCHEDULE");
  });
}
