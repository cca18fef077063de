import { createTask, type RunCoordinator, type ScheduledTask } from "node-cron";
import type { Queryable } from "../db/sql";
import { ExecutionStore, LEASE_MS, type Trigger } from "./executions";

/** What a running job is given. */
export interface JobContext {
  executionId: number;
  vendorId: number;
  trigger: Trigger;
  extra: Record<string, unknown>;
  /** Aborted when someone asks to stop the execution (on any node) or the scheduler shuts down. */
  signal: AbortSignal;
  log(line: string): Promise<void>;
}

/** A job's outcome: a message and numbers for the execution record (freed bytes, deleted artifacts…). */
export type JobResult = { message?: string; metrics?: Record<string, unknown> } | void;
export type JobHandler = (job: JobContext) => Promise<JobResult>;

export interface SchedulerOptions {
  /** How often leases are renewed, stop requests read and lapsed runs reaped. */
  heartbeatMs?: number;
  /** How often schedules are re-read, so schedule changes made on another node take effect here. */
  syncMs?: number;
  onError?: (error: unknown) => void;
}

interface Running {
  vendorType: string;
  abort: AbortController;
  done: Promise<void>;
}

// Claimed ticks are kept this long, then pruned: far longer than any clock skew between nodes.
const TICK_RETENTION = "1 day";

/**
 * Runs jobs by hand and on cron schedules, safely on several nodes sharing one database:
 * - each scheduled tick is claimed with an insert keyed by schedule and tick time, so exactly one node runs it;
 * - a running execution holds a lease its node renews; when a node dies the lease lapses and any node marks the
 *   run failed, so nothing stays "Running" forever;
 * - a stop request is a flag in the database that the running node picks up at its next heartbeat.
 */
export class Scheduler {
  readonly executions: ExecutionStore;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly tasks = new Map<string, { cron: string; params: string; task: ScheduledTask }>();
  private readonly running = new Map<number, Running>();
  private timers: NodeJS.Timeout[] = [];
  private readonly coordinator: RunCoordinator;

  constructor(
    private readonly db: Queryable,
    private readonly options: SchedulerOptions = {},
  ) {
    this.executions = new ExecutionStore(db);
    this.coordinator = {
      shouldRun: async (key) => {
        const claimed = await this.db.query("INSERT INTO schedule_ticks (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key", [key]);
        return claimed.length > 0;
      },
    };
  }

  registerJob(vendorType: string, handler: JobHandler): void {
    this.handlers.set(vendorType, handler);
  }

  /** Loads the schedules and starts the heartbeat; call once the jobs are registered. */
  async start(): Promise<void> {
    await this.executions.reapExpired();
    await this.syncSchedules();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const timer = setInterval(() => void fn().catch((error) => this.options.onError?.(error)), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.heartbeatMs ?? LEASE_MS / 3, () => this.heartbeat());
    every(this.options.syncMs ?? 30_000, () => this.syncSchedules());
  }

  /** Stops scheduling, asks running jobs to stop and waits for them; their executions end as Stopped. */
  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.timers = [];
    await Promise.all([...this.tasks.values()].map(({ task }) => task.destroy()));
    this.tasks.clear();
    for (const run of this.running.values()) run.abort.abort();
    await Promise.all([...this.running.values()].map((run) => run.done));
  }

  /** Sets (or with null removes) the schedule of a job and what its runs are given; every node picks it up within syncMs. */
  async setSchedule(vendorType: string, vendorId: number, cron: string | null, params: Record<string, unknown> = {}): Promise<void> {
    if (cron === null) {
      await this.db.query("DELETE FROM schedules WHERE vendor_type = $1 AND vendor_id = $2", [vendorType, vendorId]);
    } else {
      await this.db.query(
        `INSERT INTO schedules (vendor_type, vendor_id, cron, params) VALUES ($1, $2, $3, $4)
         ON CONFLICT (vendor_type, vendor_id) DO UPDATE SET cron = $3, params = $4, updated_at = now()`,
        [vendorType, vendorId, cron, JSON.stringify(params)],
      );
    }
    await this.syncSchedules();
  }

  async scheduleOf(vendorType: string, vendorId: number): Promise<{ cron: string; params: Record<string, unknown>; updated_at: Date } | null> {
    const [row] = await this.db.query<{ cron: string; params: Record<string, unknown>; updated_at: Date }>(
      "SELECT cron, params, updated_at FROM schedules WHERE vendor_type = $1 AND vendor_id = $2",
      [vendorType, vendorId],
    );
    return row ?? null;
  }

  /** Starts a job now and returns its execution id; the job runs in the background. */
  async run(vendorType: string, vendorId: number, trigger: Trigger, extra: Record<string, unknown> = {}): Promise<number> {
    const handler = this.handlers.get(vendorType);
    if (!handler) throw new Error(`no job is registered for ${vendorType}`);
    const id = await this.executions.start(vendorType, vendorId, trigger, extra);
    const abort = new AbortController();
    const context: JobContext = { executionId: id, vendorId, trigger, extra, signal: abort.signal, log: (line) => this.executions.appendLog(id, line) };
    const done = this.execute(handler, context).finally(() => this.running.delete(id));
    this.running.set(id, { vendorType, abort, done });
    return id;
  }

  /** Asks for an execution to stop, wherever it runs; false when it is not running. */
  async requestStop(id: number): Promise<boolean> {
    const requested = await this.executions.requestStop(id);
    this.running.get(id)?.abort.abort();
    return requested;
  }

  /** Resolves when the execution, if it runs on this node, has ended. */
  async settled(id: number): Promise<void> {
    await this.running.get(id)?.done;
  }

  private async execute(handler: JobHandler, job: JobContext): Promise<void> {
    try {
      const result = await handler(job);
      if (job.signal.aborted) await this.executions.finish(job.executionId, "Stopped", "stopped on request");
      else await this.executions.finish(job.executionId, "Success", result?.message ?? "", result?.metrics ?? {});
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.executions.finish(job.executionId, job.signal.aborted ? "Stopped" : "Error", job.signal.aborted ? "stopped on request" : message);
      if (!job.signal.aborted) this.options.onError?.(error);
    }
  }

  private async heartbeat(): Promise<void> {
    const stopRequested = await this.executions.renew([...this.running.keys()]);
    for (const id of stopRequested) this.running.get(id)?.abort.abort();
    await this.executions.reapExpired();
    await this.db.query(`DELETE FROM schedule_ticks WHERE claimed_at < now() - interval '${TICK_RETENTION}'`);
  }

  /** Arms a cron task per stored schedule, re-arming changed ones and dropping removed ones. */
  private async syncSchedules(): Promise<void> {
    const rows = await this.db.query<{ vendor_type: string; vendor_id: number; cron: string; params: Record<string, unknown> }>(
      "SELECT vendor_type, vendor_id, cron, params FROM schedules",
    );
    const wanted = new Map(rows.filter((r) => this.handlers.has(r.vendor_type)).map((r) => [`${r.vendor_type}/${r.vendor_id}`, r]));
    for (const [key, armed] of this.tasks) {
      const row = wanted.get(key);
      if (row?.cron !== armed.cron || JSON.stringify(row.params) !== armed.params) {
        await armed.task.destroy();
        this.tasks.delete(key);
      }
    }
    for (const [key, row] of wanted) {
      if (this.tasks.has(key)) continue;
      const task = createTask(row.cron, () => this.run(row.vendor_type, row.vendor_id, "SCHEDULE", row.params).then(() => undefined), {
        name: `berth:${key}`,
        distributed: true,
        runCoordinator: this.coordinator,
        noOverlap: false,
        unref: true,
      });
      await task.start();
      this.tasks.set(key, { cron: row.cron, params: JSON.stringify(row.params), task });
    }
  }
}
