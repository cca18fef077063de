// Validation of Harbor's RetentionPolicy body (registry/retention/policy.ts) beyond decide.test.ts: every refusal
// names the field path of the offending rule, and the bounds of HARBOR-MODEL §6.3 hold at both ends.
import { MAX_RULES, parseRetentionPolicy, RetentionPolicyError } from "../../../registry/retention/policy";

const tagSelector = { kind: "doublestar", decoration: "matches", pattern: "**" };
const repoSelector = { kind: "doublestar", decoration: "repoMatches", pattern: "**" };
const validRule = { template: "always", tag_selectors: [tagSelector], scope_selectors: { repository: [repoSelector] } };

/** A policy of three valid rules whose third is changed by `patch`, so errors must name rules[2]. */
function thirdRule(patch: Record<string, unknown>) {
  const other = (n: number) => ({ ...validRule, template: "latestPushedK", params: { latestPushedK: n } });
  return { scope: { level: "project", ref: 3 }, rules: [other(1), other(2), { ...validRule, ...patch }] };
}

const refusal = (body: Record<string, unknown>) => {
  try {
    parseRetentionPolicy(body);
  } catch (error) {
    expect(error).toBeInstanceOf(RetentionPolicyError);
    expect((error as RetentionPolicyError).conflict).toBe(false);
    return (error as Error).message;
  }
  throw new Error("the policy was accepted");
};

describe("parseRetentionPolicy refuses, naming the field", () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ["an action other than retain", { action: "delete" }, /^rules\[2\]\.action must be "retain"$/],
    ["a disabled flag that is not a boolean", { disabled: "no" }, /^rules\[2\]\.disabled must be a boolean$/],
    ["a count that is not an integer", { template: "latestPulledN", params: { latestPulledN: 2.5 } }, /^rules\[2\]\.params\.latestPulledN must be an integer from 0 to 32766$/],
    ["a count of 32767", { template: "latestPushedK", params: { latestPushedK: 32767 } }, /^rules\[2\]\.params\.latestPushedK must be an integer/],
    ["days past Harbor's bound", { template: "nDaysSinceLastPull", params: { nDaysSinceLastPull: 20190905 } }, /^rules\[2\]\.params\.nDaysSinceLastPull must be an integer from 0 to 20190904$/],
    ["a count given as a string", { template: "nDaysSinceLastPush", params: { nDaysSinceLastPush: "7" } }, /^rules\[2\]\.params\.nDaysSinceLastPush must be an integer/],
    ["a param under another template's name", { template: "latestPushedK", params: { latestPulledN: 3 } }, /^rules\[2\]\.params\.latestPushedK must be an integer/],
    ["no tag selector", { tag_selectors: [] }, /^rules\[2\]\.tag_selectors needs at least one selector$/],
    ["no scope selectors", { scope_selectors: undefined }, /^rules\[2\]\.scope_selectors must be an object/],
    ["a selector kind other than doublestar", { tag_selectors: [{ ...tagSelector, kind: "regex" }] }, /^rules\[2\]\.tag_selectors\[0\]\.kind must be "doublestar"$/],
    ["a tag decoration on a repository selector", { scope_selectors: { repository: [{ ...repoSelector, decoration: "matches" }] } }, /^rules\[2\]\.scope_selectors\.repository\[0\]\.decoration must be one of repoMatches, repoExcludes$/],
    ["an empty pattern", { tag_selectors: [tagSelector, { ...tagSelector, pattern: "" }] }, /^rules\[2\]\.tag_selectors\[1\]\.pattern must be a non-empty glob/],
    ["extras that are not a string", { tag_selectors: [{ ...tagSelector, extras: { untagged: true } }] }, /^rules\[2\]\.tag_selectors\[0\]\.extras must be a JSON string$/],
    ["an untagged switch that is not a boolean", { tag_selectors: [{ ...tagSelector, extras: '{"untagged":"yes"}' }] }, /^rules\[2\]\.tag_selectors\[0\]\.extras\.untagged must be a boolean$/],
  ])("%s", (_label, patch, message) => {
    expect(refusal(thirdRule(patch))).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["rules that are not a list", { scope: { level: "project", ref: 3 }, rules: {} }, /^rules must be a list$/],
    ["an algorithm other than or", { ...thirdRule({}), algorithm: "and" }, /^algorithm must be "or"$/],
    ["a trigger of another kind", { ...thirdRule({}), trigger: { kind: "Event", settings: {} } }, /^trigger\.kind must be "Schedule"$/],
    ["a project id of 0", { ...thirdRule({}), scope: { level: "project", ref: 0 } }, /^scope must be/],
  ])("%s", (_label, body, message) => {
    expect(refusal(body)).toMatch(message);
  });
});

describe("parseRetentionPolicy accepts", () => {
  it(`exactly ${MAX_RULES} rules`, () => {
    const rules = Array.from({ length: MAX_RULES }, (_, i) => ({ ...validRule, template: "nDaysSinceLastPush", params: { nDaysSinceLastPush: i } }));
    expect(parseRetentionPolicy({ scope: { level: "project", ref: 3 }, rules }).rules).toHaveLength(MAX_RULES);
  });

  it.each([
    ["latestPushedK", 0],
    ["latestPulledN", 32766],
    ["nDaysSinceLastPush", 0],
    ["nDaysSinceLastPull", 20190904],
  ])("%s at its bound %i, keeping only the template's own param", (template, value) => {
    const [, , rule] = parseRetentionPolicy(thirdRule({ template, params: { [template]: value, unrelated: 5 } })).rules;
    expect(rule.params).toEqual({ [template]: value });
  });

  it("always without params, an empty extras string as no extras, and Harbor's defaults for what is left out", () => {
    const body = { scope: { level: "project", ref: 3 }, rules: [{ ...validRule, tag_selectors: [{ ...tagSelector, extras: "" }] }] };
    const parsed = parseRetentionPolicy(body);
    expect(parsed.trigger).toEqual({ kind: "Schedule", settings: { cron: "" }, references: {} });
    expect(parsed.rules[0]).toMatchObject({ disabled: false, action: "retain", params: {}, tag_selectors: [tagSelector] });
    expect(parsed.rules[0].tag_selectors[0]).not.toHaveProperty("extras");
  });
});
