import type { AccessChange } from "./access";
import type { Change, FieldChange } from "./diff";
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

function fieldLine(change: Change, f: FieldChange): string {
  if (change.action === "create") return `    ${f.field}: ${show(f.after)}`;
  if (change.action === "delete") return `    ${f.field}: ${show(f.before)}`;
  if (f.item) return `    ${f.field}: ${f.item} ${show(f.item === "added" ? f.after : f.before)}`;
  return `    ${f.field}: ${show(f.before)} → ${show(f.after)}`;
}

function changeLines(change: Change): string[] {
  const head = `${change.blocked ? "!" : SYMBOL[change.action]} ${change.kind} ${change.key}${change.blocked ? ` (blocked: ${change.blocked})` : ""}`;
  return [head, ...(change.detail ?? change.fields).map((f) => fieldLine(change, f))];
}

/** Why an access line says what it says: the groups a user's change comes through, what is known of a group's members. */
function accessNote(change: AccessChange): string {
  return [...(change.via ? [`via ${change.via.join(", ")}`] : []), ...(change.note ? [change.note] : [])].join("; ");
}

function accessLine(change: AccessChange): string {
  const parts = [...(change.gains.length ? [`gains ${change.gains.join(", ")}`] : []), ...(change.loses.length ? [`loses ${change.loses.join(", ")}`] : [])];
  const note = accessNote(change);
  return `${change.who} ${parts.join(" and ")} on ${change.project}${note ? ` (${note})` : ""}`;
}

/** A markdown table cell: a DN's or a note's text never breaks the table. */
const cell = (text: string) => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|");

function accessTable(access: AccessChange[]): string {
  const notes = access.some((a) => accessNote(a) !== "");
  const row = (a: AccessChange) => [a.who, a.project, a.gains.join(", ") || "—", a.loses.join(", ") || "—", ...(notes ? [accessNote(a) || "—"] : [])].map(cell);
  const head = ["who", "project", "gains", "loses", ...(notes ? ["notes"] : [])];
  return [head, head.map(() => "---"), ...access.map(row)].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

function retentionLines(plan: Plan): string[] {
  return plan.retention.flatMap(({ project, deletes }) => [
    `${project}: the new rules would delete ${deletes.length} artifact(s) now`,
    ...deletes.map((d) => `    ${d.repository}@${d.digest}${d.tags.length ? ` (${d.tags.join(", ")})` : " (untagged)"}`),
  ]);
}

function preventionLines(plan: Plan): string[] {
  return plan.prevention.flatMap(({ project, severity, blocks }) => [
    `${project}: preventVulnerable ${severity} would block ${blocks.length} current image(s)`,
    ...blocks.map((b) => `    ${b.reason}`),
  ]);
}

/** Said first when the files are not HEAD's: the plan is of edits that no commit holds yet. */
const uncommittedLine = (commit: string) => `From uncommitted changes on top of ${commit.slice(0, 12)} (the policy files differ from that commit)`;

/** `commit`: HEAD of the repository the files are in; `uncommitted`: the files differ from it. */
export function formatText(plan: Plan, commit?: string, uncommitted = false): string {
  const lines = [...(commit && uncommitted ? [uncommittedLine(commit)] : []), summaryLine(plan)];
  if (plan.changes.length) lines.push("", ...plan.changes.flatMap(changeLines));
  if (plan.access.length) lines.push("", "Effective access changes:", ...plan.access.map((a) => `  ${accessLine(a)}`));
  if (plan.retention.length) lines.push("", "Retention impact:", ...retentionLines(plan).map((l) => `  ${l}`));
  if (plan.prevention.length) lines.push("", "Vulnerability prevention impact:", ...preventionLines(plan).map((l) => `  ${l}`));
  return `${lines.join("\n")}\n`;
}

/** A code fence longer than any run of backticks in `lines`, so that no line can close it. */
function fenced(lines: string[], info = ""): string {
  const longest = Math.max(0, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [`${fence}${info}`, ...lines, fence].join("\n");
}

/** An HTML block ends only at a blank line: one before and after keeps the markdown around it markdown. */
const folded = (summary: string, body: string) => `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;

const CUT_NOTE = "_The plan was cut to fit a comment; run `berth-controller plan` for all of it._";

/** `lines` ended with what a cut left open closed (the code fence, each <details>) and the note saying so. */
function closeCut(lines: string[]): string {
  let fence: string | null = null;
  let openDetails = 0;
  for (const line of lines) {
    const run = /^`{3,}/.exec(line)?.[0];
    if (fence === null && run) fence = run;
    else if (fence !== null && line === fence) fence = null;
    else if (fence === null && line.startsWith("<details>")) openDetails += 1;
    else if (fence === null && line === "</details>") openDetails -= 1;
  }
  const closing = [...(fence === null ? [] : [fence]), ...Array.from({ length: openDetails }, () => ["", "</details>"]).flat()];
  return [...lines, ...closing, "", CUT_NOTE].join("\n");
}

/** Cuts `text` at a line boundary to fit MARKDOWN_LIMIT, still valid markdown. */
function cutToFit(text: string): string {
  if (text.length <= MARKDOWN_LIMIT) return text;
  const kept: string[] = [];
  let length = 0;
  for (const line of text.split("\n")) {
    if (length + line.length + 1 > MARKDOWN_LIMIT - CUT_NOTE.length) break;
    kept.push(line);
    length += line.length + 1;
  }
  let cut = closeCut(kept);
  while (cut.length > MARKDOWN_LIMIT) {
    kept.pop();
    cut = closeCut(kept);
  }
  return cut;
}

/**
 * For a pull-request comment (CommonMark, as GitHub renders it): the summary first, details folded, cut to fit
 * with the cut said. `commit` and `uncommitted` as for formatText.
 */
export function formatMarkdown(plan: Plan, commit?: string, uncommitted = false): string {
  const title = `### Berth plan${commit ? ` for \`${commit.slice(0, 12)}\`${uncommitted ? " + uncommitted changes" : ""}` : ""}`;
  const blocks = [title, `**${summaryLine(plan)}**`];
  if (plan.changes.length) blocks.push(folded("Changes", fenced(plan.changes.flatMap(changeLines), "diff")));
  if (plan.access.length) {
    blocks.push("#### Effective access changes", accessTable(plan.access));
  }
  if (plan.retention.length) blocks.push("#### Retention impact", fenced(retentionLines(plan)));
  if (plan.prevention.length) blocks.push("#### Vulnerability prevention impact", fenced(preventionLines(plan)));
  return `${cutToFit(blocks.join("\n\n"))}\n`;
}

/** Everything, for tools: changes keep their whole before and after (the detail lines are for reading). */
export function formatJson(plan: Plan): string {
  const { live: _live, changes, ...rest } = plan;
  return `${JSON.stringify({ summary: summarize(changes), changes: changes.map(({ detail: _detail, ...change }) => change), ...rest }, null, 2)}\n`;
}
