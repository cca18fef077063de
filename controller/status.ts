import type { ControllerStatus, RunRecord } from "./state/registry-state";
import { describeSource } from "./state/registry-state";

const time = (value: string) => new Date(value).toISOString().replace(/\.\d+Z$/, "Z");

/** `berth-controller status`: who manages the registry, what each watcher last saw, and the last run. */
export function formatStatus(status: ControllerStatus, lastRun: (RunRecord & { id: number; finished_at: string }) | undefined): string {
  const lines = [
    `managed by:  ${status.source ? `${describeSource(status.source)}, since ${time(status.source.claimed_at)} (${status.source.claimed_by})` : "no source yet (the first apply claims the registry)"}`,
    `suspended:   ${status.suspended ? `yes${status.suspend_reason ? `: ${status.suspend_reason}` : ""}` : "no"}`,
    `apply lock:  ${status.lock ? `held by ${status.lock.holder} until ${time(status.lock.until)}` : "free"}`,
    `last run:    ${lastRun ? `#${lastRun.id} ${time(lastRun.finished_at)} ${lastRun.trigger} ${lastRun.commit ? lastRun.commit.slice(0, 12) : "-"} ${lastRun.result}, ${lastRun.changes} change(s)${lastRun.source ? ` from ${lastRun.source}` : ""}` : "none"}`,
  ];
  if (status.watchers.length === 0) lines.push("watchers:    none has reported");
  for (const watcher of status.watchers) {
    const s = watcher.status;
    lines.push(`watcher:     ${watcher.name}, reported ${time(watcher.updated_at)}`);
    lines.push(`  source:    ${s.source}`);
    lines.push(`  revision:  ${s.revision ?? "-"} (applied: ${s.appliedRevision ?? "-"}, last result: ${s.lastResult ?? "-"})`);
    lines.push(`  state:     ${s.ready ? "ready" : `NOT READY: ${s.lastError ?? "no revision read yet"}`}`);
  }
  return `${lines.join("\n")}\n`;
}
