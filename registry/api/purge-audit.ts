import type { FastifyInstance } from "fastify";
import type { AuditLog } from "../audit/audit-log";
import { parsePurgeParameters, PURGE_AUDIT_JOB, PURGE_AUDIT_VENDOR_ID, purgeParameters } from "../audit/purge-job";
import type { Scheduler } from "../scheduler/scheduler";
import { registerSystemJobRoutes } from "./system-jobs";

/** /api/v2.0/system/purgeaudit: runs (dry runs too), schedule, logs and stops of the audit log purge (system admins). */
export function registerPurgeAuditRoutes(app: FastifyInstance, deps: { scheduler: Scheduler; audit: AuditLog }): void {
  registerSystemJobRoutes(
    app,
    {
      base: "/api/v2.0/system/purgeaudit",
      jobName: PURGE_AUDIT_JOB,
      vendorId: PURGE_AUDIT_VENDOR_ID,
      resource: "purge-audit",
      noun: "purge audit",
      title: "audit log purge",
      auditType: "purge-audit",
      parameters: (extra) => ({ ...purgeParameters(extra) }),
      parseParameters: (parameters) => ({ ...parsePurgeParameters(parameters) }),
    },
    deps,
  );
}
