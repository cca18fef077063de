import { hostname } from "node:os";
import type { ApiClient } from "../api-client";
import type { Policy } from "../policy/model";
import { makePlan, summarize, type Plan } from "../plan/plan";
import { ControllerState, type InventoryItem, type RunResult, type Trigger } from "../state/registry-state";
import { applyPlan, type ApplyReport } from "./apply";

export interface ReconcileOptions {
  client: ApiClient;
  policy: Policy;
  /** The user the controller applies as (it never removes its own access). */
  user: string;
  trigger: Trigger;
  commit: string;
  runId: string;
  /** Plan only (drift: warn). */
  dryRun?: boolean;
}

export interface ReconcileOutcome {
  plan: Plan;
  report: ApplyReport | null;
  result: RunResult;
}

/** The inventory after a run: what was created or adopted joins it, what was deleted leaves it; failures change nothing. */
export function nextInventory(previous: InventoryItem[], report: ApplyReport): InventoryItem[] {
  const items = new Map(previous.map((item) => [`${item.kind}:${item.key}`, item]));
  for (const result of report.results.filter((r) => r.outcome === "applied")) {
    const id = `${result.kind}:${result.key}`;
    if (result.action === "delete") items.delete(id);
    else if (!items.has(id)) items.set(id, { kind: result.kind, key: result.key, adopted: result.action === "adopt" });
  }
  return [...items.values()];
}

/**
 * One controller run: under the registry-wide lock (two controllers never apply at once), plan against live state
 * with the inventory, apply, record what is now managed, and write the run to the history.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileOutcome> {
  const state = new ControllerState(options.client);
  const holder = `${hostname()}:${process.pid}:${options.runId}`;
  const started = new Date().toISOString();
  await state.lock(holder, 600);
  try {
    const inventory = await state.inventory();
    const plan = await makePlan(options.client, options.policy, options.user, inventory);
    let report: ApplyReport | null = null;
    let result: RunResult;
    if (plan.changes.length === 0) result = "no-op";
    else if (options.dryRun) result = "drift";
    else {
      report = await applyPlan(options.client, options.policy, plan);
      await state.saveInventory(nextInventory(inventory, report));
      result = report.results.every((r) => r.outcome === "applied") ? "success" : "failed";
    }
    await state.recordRun({
      commit: options.commit,
      trigger: options.trigger,
      result,
      changes: plan.changes.length,
      summary: {
        ...summarize(plan.changes),
        run: options.runId,
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
