import type { Queryable } from "../db/sql";
import { MEDIA_TYPES } from "../distribution/manifest";
import type { Scheduler } from "../scheduler/scheduler";
import { NotScannableError, ScanQueueFullError, type ScanService } from "./scan-service";
import type { ScanStatus } from "./report/harbor";
import type { ScanStore } from "./scan-store";

export const SCAN_ALL_JOB = "SCAN_ALL";
/** Scan all is one system-wide job: its schedule and executions use this vendor id. */
export const SCAN_ALL_VENDOR_ID = 0;

const PAGE = 500;

/**
 * Scan all (Harbor's /system/scanAll): every image in the registry is queued again, by hand or on a schedule. Layers
 * already read are not read again (their inventories are cached), so this mostly re-squashes and re-matches. When
 * the queue fills up the run ends early and says how far it got; the next run starts over.
 */
export function registerScanAllJob(scheduler: Scheduler, deps: { db: Queryable; scans: ScanService }): void {
  scheduler.registerJob(SCAN_ALL_JOB, async (job) => {
    let queued = 0;
    let after = { repository: "", digest: "" };
    for (;;) {
      const page = await deps.db.query<{ repository: string; digest: string }>(
        `SELECT r.name AS repository, m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id
          WHERE m.media_type = ANY($1::text[]) AND (r.name, m.digest) > ($2, $3)
          ORDER BY r.name, m.digest LIMIT ${PAGE}`,
        [[MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest], after.repository, after.digest],
      );
      for (const { repository, digest } of page) {
        if (job.signal.aborted) return { message: `stopped after queuing ${queued} scan(s)`, metrics: { queued } };
        try {
          queued += (await deps.scans.request(repository, digest, "SCAN_ALL")).length;
        } catch (error) {
          if (error instanceof ScanQueueFullError) {
            await job.log(error.message);
            return { message: `the scan queue filled up after ${queued} scan(s); the rest wait for the next run`, metrics: { queued } };
          }
          if (!(error instanceof NotScannableError)) throw error;
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1];
    }
    return { message: `queued ${queued} scan(s)`, metrics: { queued } };
  });
}

/** Harbor's Stats of a scan-all run: how many of its scans there are, how many ended, and by status. */
export async function scanAllStats(scheduler: Scheduler, scans: ScanStore, trigger: "MANUAL" | "SCHEDULE" | null) {
  const { rows } = await scheduler.executions.list(SCAN_ALL_JOB, SCAN_ALL_VENDOR_ID, 20, 0);
  const execution = rows.find((row) => trigger === null || row.trigger === trigger);
  if (!execution) return { total: 0, completed: 0, metrics: {}, ongoing: false, trigger: trigger ?? "Manual" };
  const counts = await scans.countsSince("SCAN_ALL", execution.start_time);
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const waiting = (counts.Pending ?? 0) + (counts.Running ?? 0);
  const metrics: Partial<Record<ScanStatus, number>> = counts;
  return {
    total,
    completed: total - waiting,
    metrics,
    ongoing: execution.status === "Running" || waiting > 0,
    trigger: execution.trigger === "SCHEDULE" ? "Schedule" : "Manual",
  };
}
