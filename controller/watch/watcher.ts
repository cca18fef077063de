import { randomUUID } from "node:crypto";
import { createTask, type ScheduledTask } from "node-cron";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ApiError, type ApiClient } from "../api-client";
import { reconcile } from "../apply/reconcile";
import { PlanRefused } from "../plan/plan";
import { formatProblem, loadPolicy, PolicyError } from "../policy/load";
import { ControllerState, describeSource, LockedError, SourceConflictError, type Trigger, type WatcherReport } from "../state/registry-state";
import { BranchMissingError, type PolicySource, type Revision } from "./source";

export interface WatcherOptions {
  /** How this watcher is known in `berth-controller status` (host and program). */
  name: string;
  source: PolicySource;
  /** Make this watcher's source the registry's managing one at its first run (audited by the registry). */
  takeOver?: boolean;
  client: ApiClient;
  /** The user the controller applies as. */
  user: string;
  /** node-cron expression of drift runs. */
  schedule: string;
  /** How often the source is checked for a new revision. */
  pollMs: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

/** What /readyz and the tests read. */
export interface WatcherStatus {
  revision: string | null;
  /** The last revision applied successfully; drift runs re-apply it. */
  appliedRevision: string | null;
  /** A revision whose apply failed for good (bad files, a 4xx): not retried until the next one arrives. */
  failedRevision: string | null;
  lastResult: string | null;
  lastError: string | null;
  suspended: boolean;
}

const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The controller's loop: polls the policy source, applies each new revision once, and on a cron schedule reads
 * back every managed object and corrects drift (or only reports it, by the files' `controller.drift`). Runs in one
 * process never overlap, and the registry-wide lock keeps other controllers out. A revision that failed for good
 * waits for the next one; a registry that cannot be reached is retried with growing pauses.
 */
export class Watcher {
  readonly metrics = new Registry();
  readonly status: WatcherStatus = { revision: null, appliedRevision: null, failedRevision: null, lastResult: null, lastError: null, suspended: false };
  private readonly duration = new Histogram({
    name: "berth_controller_reconcile_duration_seconds",
    help: "Controller runs by trigger and result",
    labelNames: ["trigger", "result"] as const,
    buckets: [0.1, 0.5, 1, 3, 10, 30, 120],
    registers: [this.metrics],
  });
  private readonly runs = new Counter({ name: "berth_controller_runs_total", help: "Controller runs by trigger and result", labelNames: ["trigger", "result"] as const, registers: [this.metrics] });
  private readonly drifted = new Gauge({ name: "berth_controller_drifted_objects", help: "Objects that differed from the files at the last run", registers: [this.metrics] });
  private readonly applied = new Gauge({ name: "berth_controller_last_applied_info", help: "The revision last applied successfully", labelNames: ["revision"] as const, registers: [this.metrics] });
  private readonly suspendedGauge = new Gauge({ name: "berth_controller_suspended", help: "1 while the controller is suspended", registers: [this.metrics] });
  private task: ScheduledTask | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private backoffMs = 0;
  private stopped = false;
  private takeOver: boolean;
  private sourceName: string;
  private reported = "";

  constructor(private readonly options: WatcherOptions) {
    this.takeOver = options.takeOver ?? false;
    this.sourceName = options.source.describe();
  }

  async start(): Promise<void> {
    const state = new ControllerState(this.options.client);
    // After a restart, the history says what was applied already: the same commit is not applied again.
    const last = (await state.runs(20).catch(() => [])).find((run) => run.trigger === "commit");
    if (last?.result === "success" || last?.result === "no-op") this.status.appliedRevision = last.commit;
    else if (last?.result === "failed") this.status.failedRevision = last.commit;
    this.task = createTask(this.options.schedule, () => void this.enqueue(() => this.driftRun()), { name: "berth-controller-drift", noOverlap: true });
    await this.task.start();
    this.schedulePoll(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.task?.destroy();
    await this.busy;
  }

  /** Resolves when the runs queued so far are done (tests). */
  idle(): Promise<void> {
    return this.busy;
  }

  /** A reconcile now (the CLI's "reconcile now", tests). */
  reconcileNow(): Promise<void> {
    return this.enqueue(() => this.driftRun());
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(work, work).catch((error) => this.options.log("error", `controller run failed: ${(error as Error).message}`));
    return this.busy;
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () =>
        void this.enqueue(() => this.poll())
          .then(() => this.report())
          .finally(() => this.schedulePoll(this.backoffMs || this.options.pollMs)),
      delayMs,
    );
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let revision: Revision;
    try {
      revision = await this.options.source.fetch();
    } catch (error) {
      this.status.revision = null;
      if (error instanceof BranchMissingError) {
        // A setting to fix, not an outage: said at error level, and checked again at the normal pace.
        this.status.lastError = error.message;
        this.options.log("error", error.message);
      } else this.fail(`fetching ${this.options.source.describe()} failed: ${(error as Error).message}`, true);
      return;
    }
    this.sourceName = describeSource(revision.source);
    this.status.revision = revision.id;
    if (revision.id === this.status.appliedRevision || revision.id === this.status.failedRevision) return;
    await this.run("commit", revision);
  }

  private async driftRun(): Promise<void> {
    if (!this.status.appliedRevision) return; // nothing applied yet (or the last revision failed): nothing to hold
    const revision = await this.options.source.fetch().catch(() => null);
    if (!revision || revision.id !== this.status.appliedRevision) return; // a new revision is the poll's to apply
    await this.run("schedule", revision);
  }

  private async run(trigger: Trigger, revision: Revision): Promise<void> {
    const state = new ControllerState(this.options.client);
    const started = process.hrtime.bigint();
    let result = "failed";
    try {
      const suspended = await state.suspended();
      this.status.suspended = suspended.suspended;
      this.suspendedGauge.set(suspended.suspended ? 1 : 0);
      if (suspended.suspended) {
        result = "suspended";
        return;
      }
      const policy = await loadPolicy(revision.dir);
      if (trigger === "schedule" && policy.settings.drift === "off") {
        result = "skipped";
        return;
      }
      const runId = randomUUID();
      const changeRef = `${revision.id.startsWith("content:") ? revision.id : `commit ${revision.id}`} by ${revision.author} (run ${runId}, ${trigger})`;
      const outcome = await reconcile({
        client: this.options.client.withChangeRef(changeRef),
        policy,
        user: this.options.user,
        trigger,
        commit: revision.id,
        author: revision.author,
        runId,
        source: revision.source,
        takeOver: this.takeOver,
        dryRun: trigger === "schedule" && policy.settings.drift === "warn",
      });
      result = outcome.result;
      this.drifted.set(trigger === "schedule" ? outcome.plan.changes.length : 0);
      if (outcome.result === "drift") this.options.log("warn", `drift: ${outcome.plan.changes.map((c) => `${c.action} ${c.kind} ${c.key}`).join(", ")}`);
      if (outcome.result === "failed") {
        const failures = outcome.report?.results.filter((r) => r.outcome !== "applied").map((r) => `${r.action} ${r.kind} ${r.key}: ${r.error}`) ?? [];
        this.fail(`${revision.id}: ${failures.join("; ")}`, false, revision.id, trigger);
        return;
      }
      if (trigger === "commit") this.options.log("info", `applied ${revision.id}: ${outcome.plan.changes.length} change(s)`);
      else if (outcome.plan.changes.length) this.options.log("info", `corrected drift: ${outcome.plan.changes.map((c) => `${c.action} ${c.kind} ${c.key}`).join(", ")}`);
      this.status.appliedRevision = revision.id;
      this.status.failedRevision = null;
      this.takeOver = false;
      this.status.lastError = null;
      this.applied.reset();
      this.applied.set({ revision: revision.id }, 1);
      this.backoffMs = 0;
    } catch (error) {
      if (error instanceof PolicyError) this.fail(`${revision.id}: ${error.problems.map(formatProblem).join("; ")}`, false, revision.id, trigger);
      else if (error instanceof SourceConflictError) this.fail(`${revision.id}: refused: ${error.message}`, false, revision.id, trigger);
      else if (error instanceof LockedError) this.fail(`another controller is applying: ${error.message}`, true);
      else if (error instanceof PlanRefused) this.fail(`${revision.id}: ${error.message}`, false, revision.id, trigger);
      else this.fail(`${revision.id}: ${(error as Error).message}`, !(error instanceof ApiError) || error.transient);
    } finally {
      this.status.lastResult = result;
      this.runs.inc({ trigger, result });
      this.duration.observe({ trigger, result }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Tells the registry what this watcher sees, when that changed: `berth-controller status` shows it. */
  private async report(): Promise<void> {
    const report: WatcherReport = {
      source: this.sourceName,
      revision: this.status.revision,
      appliedRevision: this.status.appliedRevision,
      lastResult: this.status.lastResult,
      lastError: this.status.lastError,
      ready: this.status.revision !== null && this.status.lastError === null,
    };
    const text = JSON.stringify(report);
    if (text === this.reported) return;
    await new ControllerState(this.options.client).reportWatcher(this.options.name, report).then(
      () => void (this.reported = text),
      () => undefined, // the registry is unreachable: the next poll reports again
    );
  }

  /** Transient failures are retried with growing pauses; others park the revision until a new one arrives. */
  private fail(message: string, transient: boolean, revision?: string, trigger?: Trigger): void {
    this.status.lastError = message;
    this.options.log(transient ? "warn" : "error", message);
    if (transient) this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(this.options.pollMs, this.backoffMs * 2));
    else if (revision && trigger === "commit") this.status.failedRevision = revision;
  }
}
