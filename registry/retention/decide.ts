import { selects, type Selector } from "../policy/immutable-rules";
import { labelNames, type RetentionRule, type TagSelector } from "./policy";

/** An artifact as retention sees it; times are the latest of the artifact's and its tags'. */
export interface Candidate {
  /** Repository path inside the project ("app", "team/app"). */
  repository: string;
  digest: string;
  tags: string[];
  /** Names of the labels it carries. */
  labels: string[];
  pushedAt: Date;
  pulledAt: Date | null;
  /** A tag of it is protected by an immutable tag rule: never deleted. */
  immutable: boolean;
}

export type Verdict = "RETAIN" | "DEL" | "IMMUTABLE";

export interface Decision extends Candidate {
  verdict: Verdict;
  /** The first rule (1-based, in policy order) that retained it, or null. */
  rule: number | null;
  reason: string;
}

export interface RetentionPlan {
  /** One decision per candidate in a repository some enabled rule selects. */
  decisions: Decision[];
  /** Repositories no enabled rule selects: left entirely alone. */
  untouched: string[];
}

const DAY_MS = 86_400_000;

/** Harbor's untagged switch: extras `{"untagged": bool}`, defaulting to true for matches and false for excludes. */
function selectsUntagged(selector: Selector): boolean {
  let untagged = selector.decoration === "matches";
  if (selector.extras !== undefined) untagged = (JSON.parse(selector.extras) as { untagged?: boolean }).untagged === true;
  return selector.decoration === "matches" ? untagged : !untagged;
}

/**
 * A label selector picks by the artifact's labels, tagged or not. A tag selector picks a tagged artifact when any of
 * its tags passes; an untagged one per the untagged switch.
 */
function tagSelectorPicks(selector: TagSelector, candidate: Candidate): boolean {
  if (selector.kind === "label") {
    const names = labelNames(selector);
    return selector.decoration === "withLabels" ? names.every((n) => candidate.labels.includes(n)) : !names.some((n) => candidate.labels.includes(n));
  }
  if (candidate.tags.length === 0) return selectsUntagged(selector);
  return candidate.tags.some((tag) => selects(selector, tag));
}

const byPush = (a: Candidate, b: Candidate) => b.pushedAt.getTime() - a.pushedAt.getTime() || a.digest.localeCompare(b.digest);
const byPull = (a: Candidate, b: Candidate) => (b.pulledAt?.getTime() ?? -Infinity) - (a.pulledAt?.getTime() ?? -Infinity) || byPush(a, b);

/** What a rule's template keeps among the candidates its selectors picked in one repository. */
function applyTemplate(rule: RetentionRule, picked: Candidate[], now: Date): Candidate[] {
  const n = rule.params[rule.template] ?? 0;
  switch (rule.template) {
    case "latestPushedK":
      return [...picked].sort(byPush).slice(0, n);
    case "latestPulledN":
      // Never-pulled artifacts sort last, as in Harbor (their pull time is zero): they fill up what is left of N.
      return [...picked].sort(byPull).slice(0, n);
    case "nDaysSinceLastPush":
      return picked.filter((c) => now.getTime() - c.pushedAt.getTime() <= n * DAY_MS);
    case "nDaysSinceLastPull":
      return picked.filter((c) => c.pulledAt !== null && now.getTime() - c.pulledAt.getTime() <= n * DAY_MS);
    case "always":
      return picked;
  }
}

function describe(rule: RetentionRule, index: number): string {
  const param = rule.template === "always" ? "" : `=${rule.params[rule.template]}`;
  const tags = rule.tag_selectors.map((s) => `${s.decoration} ${s.pattern}`).join(" and ");
  return `rule ${index + 1} (${rule.template}${param}, tags ${tags})`;
}

/**
 * Harbor's retention semantics as a pure function (HARBOR-MODEL §6.4–6.5): every enabled rule picks repositories
 * (all its repository selectors must pass) and, in them, artifacts (all its tag selectors must pass); its template
 * keeps some of those. Kept = the union over rules. In a repository some rule picked, every other artifact is
 * deleted whole (all its tags), unless an immutable tag protects it. Repositories no rule picks are untouched.
 * The result is ordered by repository, then newest push first, so a dry run and the real run list the same thing.
 */
export function decide(rules: RetentionRule[], candidates: Candidate[], now: Date): RetentionPlan {
  const enabled = rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => !rule.disabled);
  const repositories = [...new Set(candidates.map((c) => c.repository))].sort();
  const inScope = (repository: string, rule: RetentionRule) => rule.scope_selectors.repository.every((s) => selects(s, repository));
  const decisions: Decision[] = [];
  const untouched: string[] = [];
  for (const repository of repositories) {
    const applicable = enabled.filter(({ rule }) => inScope(repository, rule));
    const inRepository = candidates.filter((c) => c.repository === repository).sort(byPush);
    if (applicable.length === 0) {
      untouched.push(repository);
      continue;
    }
    const keptBy = new Map<string, number>();
    for (const { rule, index } of applicable) {
      const picked = inRepository.filter((c) => rule.tag_selectors.every((s) => tagSelectorPicks(s, c)));
      for (const kept of applyTemplate(rule, picked, now)) if (!keptBy.has(kept.digest)) keptBy.set(kept.digest, index);
    }
    for (const candidate of inRepository) {
      const index = keptBy.get(candidate.digest);
      if (index !== undefined) {
        decisions.push({ ...candidate, verdict: "RETAIN", rule: index + 1, reason: `retained by ${describe(rules[index], index)}` });
      } else if (candidate.immutable) {
        decisions.push({ ...candidate, verdict: "IMMUTABLE", rule: null, reason: "not retained by any rule, but protected by an immutable tag rule" });
      } else {
        decisions.push({ ...candidate, verdict: "DEL", rule: null, reason: "not retained by any rule" });
      }
    }
  }
  return { decisions, untouched };
}
