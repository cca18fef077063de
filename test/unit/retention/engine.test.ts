// Edge cases of the retention engine (registry/retention/decide.ts) that decide.test.ts leaves out: selectors ANDed
// within a rule, tie-breaking, time boundaries, rule numbering, purity, and the Harbor surprises of HARBOR-MODEL §12
// items 8–10 written down as behaviour, so that a change to them is a deliberate one.
import { decide, type Candidate, type Verdict } from "../../../registry/retention/decide";
import { parseRetentionPolicy, type RetentionRule } from "../../../registry/retention/policy";

const NOW = new Date("2027-03-01T00:00:00Z");
const DAY = 86_400_000;
const at = (msAgo: number) => new Date(NOW.getTime() - msAgo);

interface Spec {
  repo?: string;
  tags?: string[];
  pushedMsAgo?: number;
  pulledMsAgo?: number;
  immutable?: boolean;
}

/** An artifact with quiet defaults: repository "app", untagged, pushed one day ago, never pulled. */
function art(digest: string, spec: Spec = {}): Candidate {
  return {
    repository: spec.repo ?? "app",
    digest,
    tags: spec.tags ?? [],
    labels: [],
    pushedAt: at(spec.pushedMsAgo ?? DAY),
    pulledAt: spec.pulledMsAgo === undefined ? null : at(spec.pulledMsAgo),
    immutable: spec.immutable ?? false,
  };
}

type SelectorSpec = string | { decoration: string; pattern: string; extras?: string };
interface RuleSpec {
  template: string;
  n?: number;
  disabled?: boolean;
  /** Tag selectors; a bare string is `matches <pattern>` without extras. Default: matches `**`. */
  tags?: SelectorSpec[];
  /** Repository selectors; a bare string is `repoMatches <pattern>`. Default: repoMatches `**`. */
  repos?: SelectorSpec[];
}

function selectorList(specs: SelectorSpec[], bareDecoration: string) {
  return specs.map((s) => ({ kind: "doublestar", ...(typeof s === "string" ? { decoration: bareDecoration, pattern: s } : s) }));
}

/** Rules as the API would store them: every spec goes through the real validation first. */
function policy(...specs: RuleSpec[]): RetentionRule[] {
  const body = {
    scope: { level: "project", ref: 7 },
    rules: specs.map((s) => ({
      template: s.template,
      disabled: s.disabled ?? false,
      params: s.n === undefined ? {} : { [s.template]: s.n },
      tag_selectors: selectorList(s.tags ?? ["**"], "matches"),
      scope_selectors: { repository: selectorList(s.repos ?? ["**"], "repoMatches") },
    })),
  };
  return parseRetentionPolicy(body).rules;
}

/** "digest:VERDICT" in the engine's order: comparing lists checks verdicts and ordering at once. */
const outcome = (rules: RetentionRule[], artifacts: Candidate[]) => decide(rules, artifacts, NOW).decisions.map((d) => `${d.digest}:${d.verdict}`);

const UNTAGGED_OFF = '{"untagged":false}';

describe("decide: selectors", () => {
  it("ANDs the tag selectors of one rule (matches v* and excludes *-rc*)", () => {
    const rules = policy({ template: "always", tags: [{ decoration: "matches", pattern: "v*", extras: UNTAGGED_OFF }, { decoration: "excludes", pattern: "*-rc*" }] });
    const artifacts = [
      art("a", { tags: ["v1"], pushedMsAgo: 1 }),
      art("b", { tags: ["v2-rc1"], pushedMsAgo: 2 }),
      // Picked: v3 matches v*, and v3 is a tag that does not match *-rc*.
      art("c", { tags: ["v3-rc1", "v3"], pushedMsAgo: 3 }),
      art("d", { tags: ["dev"], pushedMsAgo: 4 }),
    ];
    expect(outcome(rules, artifacts)).toEqual(["a:RETAIN", "b:DEL", "c:RETAIN", "d:DEL"]);
  });

  it("ANDs the repository selectors of one rule; what they leave out is untouched", () => {
    const rules = policy({ template: "latestPushedK", n: 0, repos: ["team/**", { decoration: "repoExcludes", pattern: "team/web" }] });
    const plan = decide(rules, [art("x", { repo: "app" }), art("y", { repo: "team/api" }), art("z", { repo: "team/web" })], NOW);
    expect(plan.decisions.map((d) => `${d.repository}:${d.verdict}`)).toEqual(["team/api:DEL"]);
    expect(plan.untouched).toEqual(["app", "team/web"]);
  });

  it.each([
    ["*", ["app"], ["team/app", "team/sub/app"]],
    ["team/*", ["team/app"], ["app", "team/sub/app"]],
    ["team/**", ["team/app", "team/sub/app"], ["app"]],
    ["**/app", ["app", "team/app", "team/sub/app"], []],
  ])("repository pattern %s: * stays inside a path segment, ** crosses them", (pattern, inScope, untouched) => {
    const artifacts = ["app", "team/app", "team/sub/app"].map((repo, i) => art(`d${i}`, { repo }));
    const plan = decide(policy({ template: "always", repos: [pattern] }), artifacts, NOW);
    expect(plan.decisions.map((d) => d.repository)).toEqual(inScope);
    expect(plan.untouched).toEqual(untouched);
  });

  it("excludes picks an artifact when any one of its tags does not match", () => {
    const rules = policy({ template: "always", tags: [{ decoration: "excludes", pattern: "dev-*" }] });
    const artifacts = [art("mixed", { tags: ["dev-1", "v1"], pushedMsAgo: 1 }), art("dev", { tags: ["dev-2", "dev-3"], pushedMsAgo: 2 })];
    expect(outcome(rules, artifacts)).toEqual(["mixed:RETAIN", "dev:DEL"]);
  });

  it.each([
    ["matches", undefined, "RETAIN"],
    ["matches", "", "RETAIN"],
    ["matches", "{}", "DEL"],
    ["matches", UNTAGGED_OFF, "DEL"],
    ["excludes", undefined, "RETAIN"],
    ["excludes", "{}", "RETAIN"],
    ["excludes", '{"untagged":true}', "DEL"],
  ])("the untagged switch: %s v* with extras %j → an untagged artifact is %s", (decoration, extras, verdict) => {
    const selector = { decoration, pattern: "v*", ...(extras === undefined ? {} : { extras }) };
    expect(outcome(policy({ template: "always", tags: [selector] }), [art("u")])).toEqual([`u:${verdict}`]);
  });
});

describe("decide: templates at their edges", () => {
  it("breaks a tie in push time by digest, both in the order and in which K are kept", () => {
    const same = { tags: ["t"], pushedMsAgo: DAY };
    const artifacts = [art("sha256:c", same), art("sha256:a", same), art("sha256:b", same)];
    expect(outcome(policy({ template: "latestPushedK", n: 1 }), artifacts)).toEqual(["sha256:a:RETAIN", "sha256:b:DEL", "sha256:c:DEL"]);
  });

  it.each<[string, Spec, Spec]>([
    ["nDaysSinceLastPush", { pushedMsAgo: 3 * DAY }, { pushedMsAgo: 3 * DAY + 1 }],
    // Pushed recently, so that only the pull time can decide (and the order stays "in" before "out").
    ["nDaysSinceLastPull", { pushedMsAgo: 1, pulledMsAgo: 3 * DAY }, { pushedMsAgo: 2, pulledMsAgo: 3 * DAY + 1 }],
  ])("%s=3 keeps what is exactly 3 days old and deletes what is a millisecond older", (template, inside, outside) => {
    expect(outcome(policy({ template, n: 3 }), [art("in", inside), art("out", outside)])).toEqual(["in:RETAIN", "out:DEL"]);
  });

  it("nDaysSinceLastPull never keeps an artifact that was never pulled, however large N is", () => {
    expect(outcome(policy({ template: "nDaysSinceLastPull", n: 20190904 }), [art("never")])).toEqual(["never:DEL"]);
  });

  it("latestPulledN ranks never-pulled artifacts last, newest push first among them", () => {
    const artifacts = [art("pulled", { pushedMsAgo: 9 * DAY, pulledMsAgo: 5 * DAY }), art("old", { pushedMsAgo: 3 * DAY }), art("new", { pushedMsAgo: 1 * DAY })];
    expect(outcome(policy({ template: "latestPulledN", n: 2 }), artifacts)).toEqual(["new:RETAIN", "old:DEL", "pulled:RETAIN"]);
  });
});

describe("decide: rules, immutability and the plan", () => {
  it("names the first enabled rule that kept an artifact by its position in the policy, disabled rules included in the count", () => {
    const rules = policy({ template: "always", disabled: true }, { template: "latestPushedK", n: 1 }, { template: "always" });
    const [newest, older] = decide(rules, [art("n", { pushedMsAgo: 1 }), art("o", { pushedMsAgo: 2 })], NOW).decisions;
    expect([newest.rule, older.rule]).toEqual([2, 3]);
    expect(newest.reason).toBe("retained by rule 2 (latestPushedK=1, tags matches **)");
  });

  it("a repository only a disabled rule selects is untouched", () => {
    const rules = policy({ template: "latestPushedK", n: 0, repos: ["legacy"], disabled: true }, { template: "latestPushedK", n: 0, repos: ["app"] });
    const plan = decide(rules, [art("l", { repo: "legacy" }), art("a", { repo: "app" })], NOW);
    expect(plan.untouched).toEqual(["legacy"]);
    expect(outcome(rules, [art("l", { repo: "legacy" })])).toEqual([]);
  });

  it.each<[string, Spec, Verdict, number | null]>([
    ["an immutable artifact no rule keeps is kept as IMMUTABLE", { tags: ["dev"], immutable: true }, "IMMUTABLE", null],
    ["an immutable artifact a rule keeps is simply RETAINed by that rule", { tags: ["v1"], immutable: true }, "RETAIN", 1],
  ])("%s", (_label, spec, verdict, rule) => {
    const [decision] = decide(policy({ template: "always", tags: [{ decoration: "matches", pattern: "v*", extras: UNTAGGED_OFF }] }), [art("x", spec)], NOW).decisions;
    expect(decision).toMatchObject({ verdict, rule });
  });

  it("without rules every repository is untouched", () => {
    expect(decide([], [art("a"), art("b", { repo: "team/b" })], NOW)).toEqual({ decisions: [], untouched: ["app", "team/b"] });
  });

  it("orders decisions by repository, then newest push, and does not touch its input", () => {
    const artifacts = Object.freeze([
      Object.freeze(art("b1", { repo: "b", pushedMsAgo: 2 })),
      Object.freeze(art("a1", { repo: "a", pushedMsAgo: 3 })),
      Object.freeze(art("b2", { repo: "b", pushedMsAgo: 1 })),
      Object.freeze(art("a2", { repo: "a/z", pushedMsAgo: 1 })),
    ]) as Candidate[];
    const snapshot = JSON.stringify(artifacts);
    expect(outcome(policy({ template: "latestPushedK", n: 1 }), artifacts)).toEqual(["a1:RETAIN", "a2:RETAIN", "b2:RETAIN", "b1:DEL"]);
    expect(JSON.stringify(artifacts)).toBe(snapshot);
  });
});

// HARBOR-MODEL §12: what surprised Harbor users, pinned down so Berth's answer is known and previewable.
describe("decide: Harbor's documented surprises", () => {
  const releases = [art("foo", { tags: ["foo-1"], pushedMsAgo: 1 }), art("bar", { tags: ["bar-1"], pushedMsAgo: 2 }), art("baz", { tags: ["baz-1"], pushedMsAgo: 3 })];

  it.each([
    // §12 item 8 (terraform-provider-harbor#196): a comma list outside braces is one literal pattern that no tag can
    // match, so the rule keeps nothing and everything tagged in its repositories is deleted.
    ["foo*,bar*", ["foo:DEL", "bar:DEL", "baz:DEL"]],
    ["{foo*,bar*}", ["foo:RETAIN", "bar:RETAIN", "baz:DEL"]],
    // §12 item 10 (harbor#12877): patterns are globs, not regular expressions.
    ["^(foo|bar)-[0-9]+$", ["foo:DEL", "bar:DEL", "baz:DEL"]],
  ])("tag pattern %s", (pattern, expected) => {
    expect(outcome(policy({ template: "always", tags: [{ decoration: "matches", pattern, extras: UNTAGGED_OFF }] }), releases)).toEqual(expected);
  });

  it("§12 item 9 (harbor#16157): a kept tag keeps its artifact's other tags; deleting is per artifact, never per tag", () => {
    const shared = art("shared", { tags: ["v1", "nightly-17"] });
    const [decision] = decide(policy({ template: "always", tags: [{ decoration: "matches", pattern: "v*", extras: UNTAGGED_OFF }] }), [shared], NOW).decisions;
    expect(decision).toMatchObject({ verdict: "RETAIN", tags: ["v1", "nightly-17"] });
  });

  it("§12 item 9: under matches without extras, untagged artifacts count among the K most recently pushed", () => {
    const artifacts = [art("untagged", { pushedMsAgo: 1 }), art("v3", { tags: ["v3"], pushedMsAgo: 2 }), art("v2", { tags: ["v2"], pushedMsAgo: 3 })];
    expect(outcome(policy({ template: "latestPushedK", n: 2, tags: ["v*"] }), artifacts)).toEqual(["untagged:RETAIN", "v3:RETAIN", "v2:DEL"]);
    const tagsOnly = policy({ template: "latestPushedK", n: 2, tags: [{ decoration: "matches", pattern: "v*", extras: UNTAGGED_OFF }] });
    expect(outcome(tagsOnly, artifacts)).toEqual(["untagged:DEL", "v3:RETAIN", "v2:RETAIN"]);
  });

  it("§12 item 9: rules are OR-ed, so a broad ** rule makes a narrow one moot", () => {
    const rules = policy({ template: "latestPushedK", n: 1, tags: ["foo*"] }, { template: "nDaysSinceLastPush", n: 1 });
    expect(outcome(rules, releases)).toEqual(["foo:RETAIN", "bar:RETAIN", "baz:RETAIN"]);
  });
});
