import type { ApiClient } from "../api-client";
import { ApiError } from "../api-client";
import type { Policy } from "../policy/model";
import type { Change } from "../plan/diff";
import type { Plan } from "../plan/plan";
import { dependenciesOf } from "../plan/dependencies";
import { execute, IdBook } from "./executors";
import { inParallel } from "../../registry/replication/parallel";

export type Outcome = "applied" | "failed" | "skipped";

export interface ChangeResult {
  kind: Change["kind"];
  key: string;
  action: Change["action"];
  outcome: Outcome;
  error?: string;
}

export interface ApplyReport {
  results: ChangeResult[];
  notes: string[];
}

/** How many changes of one kind are made at once (they never depend on each other). */
const CONCURRENCY = 8;

/**
 * Consecutive changes of one kind (and direction): changes only depend on changes of earlier kinds, so a batch can
 * run at once after the batches before it.
 */
function batches(changes: Change[]): Change[][] {
  const groups: Change[][] = [];
  for (const change of changes) {
    const last = groups[groups.length - 1];
    const sameGroup = last && last[0].kind === change.kind && (last[0].action === "delete") === (change.action === "delete");
    if (sameGroup) last.push(change);
    else groups.push([change]);
  }
  return groups;
}

/**
 * Makes the plan's changes in order, kind by kind (several of one kind at once). A change that fails (after the
 * client's retries of transient errors) is reported and the run goes on with every change that does not depend on
 * it; blocked changes are not attempted.
 */
export async function applyPlan(client: ApiClient, policy: Policy, plan: Plan): Promise<ApplyReport> {
  const notes: string[] = [];
  const ctx = { client, policy, live: plan.live, ids: new IdBook(plan.live), note: (message: string) => notes.push(message) };
  const failed = new Set<string>();
  const results = new Map<Change, ChangeResult>();
  const one = async (change: Change) => {
    const base = { kind: change.kind, key: change.key, action: change.action };
    if (change.blocked) {
      failed.add(`${change.kind}:${change.key}`);
      results.set(change, { ...base, outcome: "skipped", error: change.blocked });
      return;
    }
    const missing = dependenciesOf(change).find((dependency) => failed.has(dependency));
    if (missing) {
      failed.add(`${change.kind}:${change.key}`);
      results.set(change, { ...base, outcome: "skipped", error: `${missing.replace(":", " ")} was not applied` });
      return;
    }
    try {
      await execute(change, ctx);
      results.set(change, { ...base, outcome: "applied" });
    } catch (error) {
      failed.add(`${change.kind}:${change.key}`);
      const message = error instanceof Error ? error.message : String(error);
      results.set(change, { ...base, outcome: "failed", error: error instanceof ApiError && error.transient ? `${message} (gave up after retries)` : message });
    }
  };
  for (const batch of batches(plan.changes)) await inParallel(batch, CONCURRENCY, one);
  return { results: plan.changes.map((change) => results.get(change)!), notes };
}

export function formatReport(report: ApplyReport): string {
  const lines = report.results.map((r) => `${r.outcome.padEnd(7)} ${r.action} ${r.kind} ${r.key}${r.error ? `: ${r.error}` : ""}`);
  const count = (outcome: Outcome) => report.results.filter((r) => r.outcome === outcome).length;
  lines.push(`Applied ${count("applied")}, failed ${count("failed")}, skipped ${count("skipped")}.`);
  return `${[...lines, ...report.notes.map((n) => `note: ${n}`)].join("\n")}\n`;
}
