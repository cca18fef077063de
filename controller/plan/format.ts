import type { AccessChange } from "./access";
import type { Change } from "./diff";
import { summarize, type Plan } from "./plan";

const SYMBOL = { create: "+", update: "~", delete: "-", adopt: "=" } as const;

/** GitHub refuses comments over 65 536 characters; the summary must survive the cut. */
export const MARKDOWN_LIMIT = 60_000;

const show = (value: unknown) => (value === undefined ? "(none)" : JSON.stringify(value));

export function summaryLine(plan: Pick<Plan, "changes">): string {
  const { create, update, delete: deletes, adopt, blocked } = summarize(plan.changes);
  if (plan.changes.length === 0) return "No changes: the registry matches the files.";
  return `Plan: ${create} to create, ${update} to update, ${deletes} to delete${adopt ? `, ${adopt} to adopt` : ""}${blocked ? `, ${blocked} blocked` : ""}.`;
}

function changeLines(change: Change): string[] {
  const head = `${change.blocked ? "!" : SYMBOL[change.action]} ${change.kind} ${change.key}${change.blocked ? ` (blocked: ${change.blocked})` : ""}`;
  const fields = change.fields.map((f) => (change.action === "update" || change.action === "adopt" ? `    ${f.field}: ${show(f.before)} → ${show(f.after)}` : `    ${f.field}: ${show(change.action === "create" ? f.after : f.before)}`));
  return [head, ...fields];
}

function accessLine(change: AccessChange): string {
  const parts = [...(change.gains.length ? [`gains ${change.gains.join(", ")}`] : []), ...(change.loses.length ? [`loses ${change.loses.join(", ")}`] : [])];
  return `${change.who} ${parts.join(" and ")} on ${change.project}`;
}

function retentionLines(plan: Plan): string[] {
  return plan.retention.flatMap(({ project, deletes }) => [
    `${project}: the new rules would delete ${deletes.length} artifact(s) now`,
    ...deletes.map((d) => `    ${d.repository}@${d.digest}${d.tags.length ? ` (${d.tags.join(", ")})` : " (untagged)"}`),
  ]);
}

export function formatText(plan: Plan): string {
  const lines = [summaryLine(plan)];
  if (plan.changes.length) lines.push("", ...plan.changes.flatMap(changeLines));
  if (plan.access.length) lines.push("", "Effective access changes:", ...plan.access.map((a) => `  ${accessLine(a)}`));
  if (plan.retention.length) lines.push("", "Retention impact:", ...retentionLines(plan).map((l) => `  ${l}`));
  return `${lines.join("\n")}\n`;
}

/** For a pull-request comment: the summary first, details folded, cut to fit with the cut said. */
export function formatMarkdown(plan: Plan, commit?: string): string {
  const header = [`### Berth plan${commit ? ` for \`${commit.slice(0, 12)}\`` : ""}`, "", `**${summaryLine(plan)}**`];
  const sections: string[] = [];
  if (plan.changes.length) sections.push(["<details><summary>Changes</summary>", "", "```diff", ...plan.changes.flatMap(changeLines), "```", "</details>"].join("\n"));
  if (plan.access.length) {
    sections.push(["#### Effective access changes", "", "| who | project | gains | loses |", "| --- | --- | --- | --- |", ...plan.access.map((a) => `| ${a.who} | ${a.project} | ${a.gains.join(", ") || "—"} | ${a.loses.join(", ") || "—"} |`)].join("\n"));
  }
  if (plan.retention.length) sections.push(["#### Retention impact", "", "```", ...retentionLines(plan), "```"].join("\n"));
  let text = [...header, "", ...sections].join("\n");
  if (text.length > MARKDOWN_LIMIT) {
    const note = "\n\n_The plan was cut to fit a comment; run `berth-controller plan` for all of it._\n";
    const cut = text.slice(0, MARKDOWN_LIMIT - note.length - 20);
    // Close a code block the cut left open, so the note renders as text.
    const open = (cut.match(/```/g) ?? []).length % 2 === 1;
    text = `${cut}${open ? "\n```\n</details>" : ""}${note}`;
  }
  return `${text}\n`;
}

export function formatJson(plan: Plan): string {
  const { live: _live, ...rest } = plan;
  return `${JSON.stringify({ summary: summarize(plan.changes), ...rest }, null, 2)}\n`;
}
