import type { Policy } from "../policy/model";
import type { Change, FieldChange } from "./diff";

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A rule as leaf paths → values: `{params: {latestPushedK: 10}}` → `params.latestPushedK` → 10. */
function leaves(value: unknown, prefix = "", into = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

/** The leaves of two rules that differ, in the order of `after` then those only `before` has. */
function differingLeaves(before: unknown, after: unknown): FieldChange[] {
  const was = leaves(before);
  const is = leaves(after);
  const paths = [...new Set([...is.keys(), ...was.keys()])];
  return paths.filter((p) => !same(was.get(p), is.get(p))).map((p) => ({ field: p, before: was.get(p), after: is.get(p) }));
}

/**
 * Two rules are one rule changed (rather than one removed and another added) when at least half of their leaves
 * are equal: a new `latestPushedK` or tag pattern, not a different rule altogether.
 */
function similarity(before: unknown, after: unknown): number {
  const union = new Set([...leaves(before).keys(), ...leaves(after).keys()]).size;
  const equal = union - differingLeaves(before, after).length;
  return equal * 2 >= union ? equal : -1;
}

/**
 * A rule list's change, item by item. Rules compare as sets (sorted), so each desired rule is named by its index in
 * the file (`fileOrder`); rules that did not change are left out, a changed rule is shown field by field, and rules
 * that come or go are lines of their own.
 */
export function ruleListChanges(name: string, before: unknown[], after: unknown[], fileOrder: unknown[]): FieldChange[] {
  const usedInFile = new Set<number>();
  const fileIndex = (rule: unknown, fallback: number) => {
    const index = fileOrder.findIndex((candidate, i) => !usedInFile.has(i) && same(candidate, rule));
    usedInFile.add(index);
    return index < 0 ? fallback : index;
  };
  const added = after.map((rule, i) => ({ rule, index: fileIndex(rule, i) })).sort((a, b) => a.index - b.index);
  const removed = [...before];
  // Unchanged rules first (exact matches), then the most similar pairs.
  for (let a = added.length - 1; a >= 0; a--) {
    const match = removed.findIndex((rule) => same(rule, added[a].rule));
    if (match < 0) continue;
    removed.splice(match, 1);
    added.splice(a, 1);
  }
  const pairs = added
    .flatMap((a, i) => removed.map((rule, r) => ({ i, r, score: similarity(rule, a.rule) })))
    .filter((pair) => pair.score >= 0)
    .sort((x, y) => y.score - x.score || x.i - y.i || x.r - y.r);
  const pairedWith = new Map<number, number>();
  const takenBefore = new Set<number>();
  for (const { i, r } of pairs) {
    if (pairedWith.has(i) || takenBefore.has(r)) continue;
    pairedWith.set(i, r);
    takenBefore.add(r);
  }
  const lines: FieldChange[] = [];
  added.forEach(({ rule, index }, i) => {
    const at = `${name}[${index}]`;
    const r = pairedWith.get(i);
    if (r === undefined) lines.push({ field: at, before: undefined, after: rule, item: "added" });
    else lines.push(...differingLeaves(removed[r], rule).map((leaf) => ({ ...leaf, field: `${at}.${leaf.field}` })));
  });
  removed.forEach((rule, r) => {
    if (!takenBefore.has(r)) lines.push({ field: name, before: rule, after: undefined, item: "removed" });
  });
  return lines;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * A project's allowlist change as a reviewer reads it: which ids come and go, and the other fields before → after
 * (`cveAllowlist.items: added "CVE-2024-1234"`, `cveAllowlist.useSystemAllowlist: true → false`).
 */
export function allowlistChanges(before: unknown, after: unknown): FieldChange[] {
  const itemsOf = (value: unknown) => new Set(((value as { items?: string[] } | undefined)?.items ?? []) as string[]);
  const [was, is] = [itemsOf(before), itemsOf(after)];
  const { items: _before, ...restBefore } = (before ?? {}) as Record<string, unknown>;
  const { items: _after, ...restAfter } = (after ?? {}) as Record<string, unknown>;
  return [
    ...differingLeaves(restBefore, restAfter).map((leaf) => ({ ...leaf, field: `cveAllowlist.${leaf.field}` })),
    ...[...is].filter((id) => !was.has(id)).map((id) => ({ field: "cveAllowlist.items", before: undefined, after: id, item: "added" as const })),
    ...[...was].filter((id) => !is.has(id)).map((id) => ({ field: "cveAllowlist.items", before: id, after: undefined, item: "removed" as const })),
  ];
}

/**
 * The detail lines of an immutability or retention change (`immutableTags[1].tags: "release-*" → "v*"`,
 * `retention.rules[0].params.latestPushedK: 10 → 3`), and of a project's allowlist (allowlistChanges); undefined for
 * other changes, whose fields are plain values.
 */
export function ruleDetails(change: Change, policy: Pick<Policy, "projects">): FieldChange[] | undefined {
  if (change.kind === "project" && change.action !== "create" && change.action !== "delete" && change.fields.some((f) => f.field === "cveAllowlist")) {
    return change.fields.flatMap((field) => (field.field === "cveAllowlist" ? allowlistChanges(field.before, field.after) : [field]));
  }
  if ((change.kind !== "immutability" && change.kind !== "retention") || change.action === "delete") return undefined;
  const project = policy.projects.find((p) => p.name === change.key);
  const [name, fileOrder] = change.kind === "immutability" ? ["immutableTags", project?.immutableTags] : ["retention.rules", project?.retention?.rules];
  return change.fields.flatMap((field) =>
    field.field === "rules" ? ruleListChanges(name, asList(field.before), asList(field.after), fileOrder ?? []) : [{ ...field, field: `retention.${field.field}` }],
  );
}
