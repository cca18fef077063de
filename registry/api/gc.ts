import type { FastifyInstance } from "fastify";
import type { AuditLog } from "../audit/audit-log";
import { GC_JOB, GC_VENDOR_ID, gcParameters } from "../gc/job";
import type { Scheduler } from "../scheduler/scheduler";
import { HarborError } from "./errors";
import { registerSystemJobRoutes } from "./system-jobs";

/** /api/v2.0/system/gc: runs, schedule, logs and stops of garbage collection (system admins). */
export function registerGcRoutes(app: FastifyInstance, deps: { scheduler: Scheduler; audit: AuditLog }): void {
  registerSystemJobRoutes(
    app,
    {
      base: "/api/v2.0/system/gc",
      jobName: GC_JOB,
      vendorId: GC_VENDOR_ID,
      resource: "garbage-collection",
      noun: "gc",
      title: "garbage collection",
      auditType: "gc",
      parameters: (extra) => ({ ...gcParameters(extra) }),
      parseParameters: (parameters) => {
        for (const key of ["delete_untagged", "dry_run"]) {
          if (parameters[key] !== undefined && typeof parameters[key] !== "boolean") throw new HarborError("BAD_REQUEST", `parameters.${key} must be a boolean`);
        }
        return { ...gcParameters(parameters) };
      },
    },
    deps,
  );
}
