import type { Scheduler } from "../scheduler/scheduler";
import type { GarbageCollector } from "./garbage-collector";

export const GC_JOB = "GARBAGE_COLLECTION";
/** GC is a single system-wide job: its schedule and executions use this vendor id. */
export const GC_VENDOR_ID = 0;

/** Harbor's GC parameters: delete_untagged defaults to true here (Harbor's UI ticks it by default), dry_run to false. */
export interface GcParameters {
  delete_untagged: boolean;
  dry_run: boolean;
}

export function gcParameters(extra: Record<string, unknown>): GcParameters {
  return { delete_untagged: extra.delete_untagged !== false, dry_run: extra.dry_run === true };
}

export function registerGcJob(scheduler: Scheduler, collector: GarbageCollector, graceMs: number): void {
  scheduler.registerJob(GC_JOB, async (job) => {
    const parameters = gcParameters(job.extra);
    const result = await collector.run({
      graceMs,
      deleteUntagged: parameters.delete_untagged,
      dryRun: parameters.dry_run,
      signal: job.signal,
      log: job.log,
    });
    return {
      message: `${parameters.dry_run ? "would free" : "freed"} ${result.freedBytes} bytes in ${result.deletedBlobs} blob(s)`,
      metrics: { ...result },
    };
  });
}
