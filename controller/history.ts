import type { RunRecord } from "./state/registry-state";

/** The run history as a table, newest first. */
export function formatHistory(runs: (RunRecord & { id: number; finished_at: string })[]): string {
  if (runs.length === 0) return "No runs yet.\n";
  const rows = runs.map((run) => [
    String(run.id),
    new Date(run.finished_at).toISOString().replace(/\.\d+Z$/, "Z"),
    run.trigger,
    run.commit ? run.commit.slice(0, 12) : "-",
    String(run.changes),
    run.result,
    run.source || "-",
  ]);
  const header = ["RUN", "FINISHED", "TRIGGER", "COMMIT", "CHANGES", "RESULT", "SOURCE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
