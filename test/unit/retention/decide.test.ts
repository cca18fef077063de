import { decide, type Candidate } from "../../../registry/retention/decide";
import { parseRetentionPolicy, RetentionPolicyError, type RetentionRule } from "../../../registry/retention/policy";

const NOW = new Date("2026-11-28T12:00:00Z");
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

function artifact(repository: string, digest: string, tags: string[], pushedDaysAgo: number, pulledDaysAgo: number | null = null, immutable = false): Candidate {
  return { repository, digest, tags, labels: [], pushedAt: daysAgo(pushedDaysAgo), pulledAt: pulledDaysAgo === null ? null : daysAgo(pulledDaysAgo), immutable };
}

function rules(...specs: { template: string; n?: number; tag?: [string, string, string?]; repo?: [string, string]; disabled?: boolean }[]): RetentionRule[] {
  return parseRetentionPolicy({
    scope: { level: "project", ref: 1 },
    rules: specs.map((spec) => ({
      template: spec.template,
      params: spec.n === undefined ? {} : { [spec.template]: spec.n },
      disabled: spec.disabled,
      tag_selectors: [{ kind: "doublestar", decoration: spec.tag?.[0] ?? "matches", pattern: spec.tag?.[1] ?? "**", ...(spec.tag?.[2] ? { extras: spec.tag[2] } : {}) }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: spec.repo?.[0] ?? "repoMatches", pattern: spec.repo?.[1] ?? "**" }] },
    })),
  }).rules;
}

const verdicts = (plan: ReturnType<typeof decide>) => Object.fromEntries(plan.decisions.map((d) => [d.digest, d.verdict]));

const APP = [
  artifact("app", "a1", ["v1"], 10, 1),
  artifact("app", "a2", ["v2"], 8, null),
  artifact("app", "a3", ["v3", "latest"], 5, 20),
  artifact("app", "a4", ["dev-1"], 2, null),
  artifact("app", "a5", [], 1, null),
];

describe("decide", () => {
  it.each([
    ["latestPushedK=2 keeps the two newest pushes", rules({ template: "latestPushedK", n: 2 }), { a4: "RETAIN", a5: "RETAIN", a3: "DEL", a2: "DEL", a1: "DEL" }],
    ["latestPulledN=2 keeps the two most recently pulled", rules({ template: "latestPulledN", n: 2 }), { a1: "RETAIN", a3: "RETAIN", a2: "DEL", a4: "DEL", a5: "DEL" }],
    ["latestPulledN fills up with never-pulled ones", rules({ template: "latestPulledN", n: 3 }), { a1: "RETAIN", a3: "RETAIN", a5: "RETAIN", a2: "DEL", a4: "DEL" }],
    ["nDaysSinceLastPush=5 keeps pushes within 5 days", rules({ template: "nDaysSinceLastPush", n: 5 }), { a3: "RETAIN", a4: "RETAIN", a5: "RETAIN", a1: "DEL", a2: "DEL" }],
    ["nDaysSinceLastPull=7 keeps pulls within 7 days", rules({ template: "nDaysSinceLastPull", n: 7 }), { a1: "RETAIN", a2: "DEL", a3: "DEL", a4: "DEL", a5: "DEL" }],
    ["always keeps everything selected", rules({ template: "always" }), { a1: "RETAIN", a2: "RETAIN", a3: "RETAIN", a4: "RETAIN", a5: "RETAIN" }],
    ["matches v* picks by any tag", rules({ template: "always", tag: ["matches", "v*", '{"untagged":false}'] }), { a1: "RETAIN", a2: "RETAIN", a3: "RETAIN", a4: "DEL", a5: "DEL" }],
    ["excludes dev-* picks the rest", rules({ template: "always", tag: ["excludes", "dev-*"] }), { a1: "RETAIN", a2: "RETAIN", a3: "RETAIN", a4: "DEL", a5: "RETAIN" }],
    ["matches without extras selects untagged too", rules({ template: "always", tag: ["matches", "v9"] }), { a5: "RETAIN", a1: "DEL", a2: "DEL", a3: "DEL", a4: "DEL" }],
    ['extras "{}" means untagged=false under matches', rules({ template: "always", tag: ["matches", "**", "{}"] }), { a5: "DEL", a1: "RETAIN", a2: "RETAIN", a3: "RETAIN", a4: "RETAIN" }],
    ["excludes with untagged=true drops untagged", rules({ template: "always", tag: ["excludes", "nothing", '{"untagged":true}'] }), { a5: "DEL", a1: "RETAIN" }],
    ["rules are OR-combined", rules({ template: "latestPushedK", n: 1 }, { template: "latestPulledN", n: 1 }), { a5: "RETAIN", a1: "RETAIN", a2: "DEL", a3: "DEL", a4: "DEL" }],
    ["a disabled rule keeps nothing and selects no repository", rules({ template: "always", disabled: true }), {}],
    ["latestPushedK=0 deletes everything selected", rules({ template: "latestPushedK", n: 0 }), { a1: "DEL", a5: "DEL" }],
  ])("%s", (_label, policy, expected) => {
    const plan = decide(policy, APP, NOW);
    expect(verdicts(plan)).toMatchObject(expected);
  });

  it("deletes per artifact: a retained tag keeps the artifact's other tags too (harbor#16157)", () => {
    const plan = decide(rules({ template: "always", tag: ["matches", "latest", '{"untagged":false}'] }), APP, NOW);
    const a3 = plan.decisions.find((d) => d.digest === "a3")!;
    expect(a3).toMatchObject({ verdict: "RETAIN", tags: ["v3", "latest"], rule: 1 });
  });

  it("never deletes an immutable artifact, and says why", () => {
    const plan = decide(rules({ template: "latestPushedK", n: 0 }), [artifact("app", "x", ["release-1"], 3, null, true)], NOW);
    expect(plan.decisions[0]).toMatchObject({ verdict: "IMMUTABLE", reason: expect.stringMatching(/immutable/) });
  });

  it("leaves repositories no rule selects untouched; * stays inside one path segment, ** crosses", () => {
    const candidates = [artifact("app", "a", ["v1"], 1), artifact("team/api", "b", ["v1"], 1), artifact("team/web", "c", ["v1"], 1)];
    const single = decide(rules({ template: "latestPushedK", n: 0, repo: ["repoMatches", "*"] }), candidates, NOW);
    expect(single.untouched).toEqual(["team/api", "team/web"]);
    expect(verdicts(single)).toEqual({ a: "DEL" });
    const nested = decide(rules({ template: "latestPushedK", n: 0, repo: ["repoMatches", "team/**"] }), candidates, NOW);
    expect(nested.untouched).toEqual(["app"]);
    const excluded = decide(rules({ template: "latestPushedK", n: 0, repo: ["repoExcludes", "team/web"] }), candidates, NOW);
    expect(excluded.untouched).toEqual(["team/web"]);
  });

  it("names the rule that retained an artifact, and orders decisions the same every time", () => {
    const policy = rules({ template: "latestPushedK", n: 3, tag: ["matches", "v*", '{"untagged":false}'] });
    const first = decide(policy, APP, NOW);
    const second = decide(policy, [...APP].reverse(), NOW);
    expect(second).toEqual(first);
    expect(first.decisions.map((d) => d.digest)).toEqual(["a5", "a4", "a3", "a2", "a1"]);
    expect(first.decisions.find((d) => d.digest === "a3")!.reason).toBe("retained by rule 1 (latestPushedK=3, tags matches v*)");
  });
});

describe("parseRetentionPolicy", () => {
  const base = (rule: Record<string, unknown>) => ({
    scope: { level: "project", ref: 1 },
    rules: [{ template: "always", tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "**" }], scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] }, ...rule }],
  });
  it.each([
    ["an unknown template", base({ template: "keepAll" }), /rules\[0\]\.template must be one of/],
    ["a missing param", base({ template: "latestPushedK" }), /rules\[0\]\.params must be an object with latestPushedK/],
    ["a negative count", base({ template: "latestPushedK", params: { latestPushedK: -1 } }), /rules\[0\]\.params\.latestPushedK must be an integer/],
    ["a bad decoration", base({ tag_selectors: [{ kind: "doublestar", decoration: "repoMatches", pattern: "x" }] }), /rules\[0\]\.tag_selectors\[0\]\.decoration/],
    ["bad extras", base({ tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "x", extras: "{untagged" }] }), /extras must be a JSON string/],
    ["a bad cron", { ...base({}), trigger: { kind: "Schedule", settings: { cron: "0 0 25 * * *" } } }, /trigger\.settings\.cron: the hour field/],
    ["a system scope", { ...base({}), scope: { level: "system", ref: 0 } }, /scope must be/],
  ])("refuses %s, naming the field", (_label, body, message) => {
    expect(() => parseRetentionPolicy(body)).toThrow(message);
  });

  it("refuses more than 15 rules and identical rules (as a conflict)", () => {
    const one = base({}).rules[0];
    expect(() => parseRetentionPolicy({ scope: { level: "project", ref: 1 }, rules: Array.from({ length: 16 }, (_, i) => ({ ...one, template: "latestPushedK", params: { latestPushedK: i } })) })).toThrow(/at most 15 rules/);
    try {
      parseRetentionPolicy({ scope: { level: "project", ref: 1 }, rules: [one, one] });
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(RetentionPolicyError);
      expect((error as RetentionPolicyError).conflict).toBe(true);
      expect((error as Error).message).toBe("rule 1 is conflict with rule 0");
    }
  });
});

describe("label selectors", () => {
  const labelled = [
    { ...artifact("app", "l1", ["v1"], 3), labels: ["release", "qa"] },
    { ...artifact("app", "l2", ["v2"], 2), labels: ["release"] },
    { ...artifact("app", "l3", [], 1), labels: [] },
  ];
  const withSelector = (decoration: string, pattern: string) =>
    parseRetentionPolicy({
      scope: { level: "project", ref: 1 },
      rules: [
        {
          template: "always",
          tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "**" }, { kind: "label", decoration, pattern }],
          scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
        },
      ],
    }).rules;

  it("withLabels keeps artifacts carrying every listed label", () => {
    expect(verdicts(decide(withSelector("withLabels", "release, qa"), labelled, NOW))).toEqual({ l1: "RETAIN", l2: "DEL", l3: "DEL" });
  });

  it("withoutLabels keeps artifacts carrying none of them, untagged ones included", () => {
    expect(verdicts(decide(withSelector("withoutLabels", "qa"), labelled, NOW))).toEqual({ l1: "DEL", l2: "RETAIN", l3: "RETAIN" });
  });

  it.each([
    ["an unknown decoration", "hasLabels", "release", /decoration must be one of withLabels, withoutLabels/],
    ["no names", "withLabels", " , ", /must list label names/],
  ])("refuses %s", (_label, decoration, pattern, message) => {
    expect(() => withSelector(decoration, pattern)).toThrow(message);
  });
});
