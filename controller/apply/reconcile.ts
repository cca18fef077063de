import { hostname } from "node:os";
import type { ApiClient } from "../api-client";
import type { Policy } from "../policy/model";
import { makePlan, summarize, type Plan } from "../plan/plan";
import { ControllerState, describeSource, type InventoryItem, type PolicySourceId, type RunResult, type Trigger } from "../state/registry-state";
import { applyPlan, type ApplyReport } from "./apply";

export interface ReconcileOptions {
  client: ApiClient;
  policy: Policy;
  /** The user the controller applies as (it never removes its own access). */
  user: string;
  trigger: Trigger;
  commit: string;
  /** Who made the commit (`Name <email>`), recorded with the run so the registry can show it. */
  author?: string;
  runId: string;
  /** Where the files come from: only the registry's managing source may apply. */
  source: PolicySourceId;
  /** Make `source` the managing one (audited by the registry). */
  takeOver?: boolean;
  /** Plan only (drift: warn). */
  dryRun?: boolean;
}

export interface ReconcileOutcome {
  plan: Plan;
  report: ApplyReport | null;
  result: RunResult;
}

/** How a run changes the inventory: what it created or adopted joins it, what it deleted leaves it; failures change nothing. */
export function inventoryChanges(previous: InventoryItem[], report: ApplyReport): { add: InventoryItem[]; remove: Pick<InventoryItem, "kind" | "key">[] } {
  const known = new Set(previous.map((item) => `${item.kind}:${item.key}`));
  const applied = report.results.filter((r) => r.outcome === "applied");
  return {
    add: applied.filter((r) => r.action !== "delete" && !known.has(`${r.kind}:${r.key}`)).map((r) => ({ kind: r.kind, key: r.key, adopted: r.action === "adopt" })),
    remove: applied.filter((r) => r.action === "delete").map((r) => ({ kind: r.kind, key: r.key })),
  };
}

/**
 * One controller run: under the registry-wide lock (two controllers never apply at once), taken only by the source
 * that manages the registry (two sources never undo each other), plan against live state
 * with the inventory, apply, record what is now managed, and write the run to the history.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileOutcome> {
  const state = new ControllerState(options.client);
  const holder = `${hostname()}:${process.pid}:${options.runId}`;
  const started = new Date().toISOString();
  await state.lock(holder, 600, options.source, options.takeOver);
  try {
    const inventory = await state.inventory();
    const plan = await makePlan(options.client, options.policy, options.user, inventory);
    let report: ApplyReport | null = null;
    let result: RunResult;
    if (plan.changes.length === 0) result = "no-op";
    else if (options.dryRun) result = "drift";
    else {
      report = await applyPlan(options.client, options.policy, plan);
      const { add, remove } = inventoryChanges(inventory, report);
      await state.changeInventory(add, remove);
      result = report.results.every((r) => r.outcome === "applied") ? "success" : "failed";
    }
    await state.recordRun({
      commit: options.commit,
      source: describeSource(options.source),
      trigger: options.trigger,
      result,
      changes: plan.changes.length,
      summary: {
        ...summarize(plan.changes),
        run: options.runId,
        author: options.author ?? "",
        drift_mode: options.policy.settings.drift,
        ...(report ? { applied: report.results.filter((r) => r.outcome === "applied").map((r) => `${r.action} ${r.kind} ${r.key}`) } : {}),
        ...(report ? { failures: report.results.filter((r) => r.outcome !== "applied").map((r) => `${r.action} ${r.kind} ${r.key}: ${r.error}`) } : {}),
        ...(result === "drift" ? { drifted: plan.changes.map((c) => `${c.action} ${c.kind} ${c.key}`) } : {}),
      },
      started_at: started,
    });
    return { plan, report, result };
  } finally {
    await state.unlock(holder).catch(() => undefined);
  }
}
