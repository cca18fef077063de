import type { FastifyInstance } from "fastify";
import type { AuditLog } from "./audit-log";

const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * Deletes audit records older than `days`, at start and then hourly, when BERTH_AUDIT_RETENTION_DAYS is set.
 * Every node may run it: the delete is idempotent, so no lock is needed.
 */
export function scheduleAuditPurge(app: FastifyInstance, audit: AuditLog, days: number | undefined): void {
  if (days === undefined) return;
  const purge = () =>
    audit.purgeOlderThan(days).then(
      (count) => count > 0 && app.log.info({ count, days }, "purged old audit records"),
      (error) => app.log.error({ err: error }, "purging audit records failed"),
    );
  let timer: NodeJS.Timeout | undefined;
  app.addHook("onReady", async () => {
    void purge();
    timer = setInterval(purge, PURGE_EVERY_MS);
    timer.unref();
  });
  app.addHook("onClose", async () => clearInterval(timer));
}
