import { parseRuleBody, ruleProtects, RuleError } from "../../../registry/policy/immutable-rules";

const rule = (repository: [string, string], tag: [string, string], disabled = false) =>
  parseRuleBody({
    disabled,
    tag_selectors: [{ kind: "doublestar", decoration: tag[0], pattern: tag[1] }],
    scope_selectors: { repository: [{ kind: "doublestar", decoration: repository[0], pattern: repository[1] }] },
  });

describe("ruleProtects", () => {
  it.each([
    [["repoMatches", "**"], ["matches", "release-*"], "app", "release-1", true],
    [["repoMatches", "**"], ["matches", "release-*"], "team/app", "release-1", true],
    [["repoMatches", "**"], ["matches", "release-*"], "app", "latest", false],
    [["repoMatches", "app"], ["matches", "**"], "app", "v1", true],
    [["repoMatches", "app"], ["matches", "**"], "team/app", "v1", false],
    [["repoMatches", "*"], ["matches", "v*"], "team/app", "v1", false], // * stays within one path segment
    [["repoMatches", "{api,web}"], ["matches", "v{1,2}.*"], "web", "v2.0", true],
    [["repoExcludes", "sandbox/**"], ["matches", "**"], "sandbox/x", "v1", false],
    [["repoExcludes", "sandbox/**"], ["matches", "**"], "prod/x", "v1", true],
    [["repoMatches", "**"], ["excludes", "dev-*"], "app", "dev-7", false],
    [["repoMatches", "**"], ["excludes", "dev-*"], "app", "1.0", true],
  ] as const)("repository %j, tag %j: %s:%s protected=%s", (repository, tag, repo, name, expected) => {
    expect(ruleProtects(rule([...repository], [...tag]), repo, name)).toBe(expected);
  });

  it("never protects through a disabled rule", () => {
    expect(ruleProtects(rule(["repoMatches", "**"], ["matches", "**"], true), "app", "v1")).toBe(false);
  });

  it("counts only the first selector of each list, as Harbor does", () => {
    const twoTags = parseRuleBody({
      tag_selectors: [
        { kind: "doublestar", decoration: "matches", pattern: "release-*" },
        { kind: "doublestar", decoration: "matches", pattern: "**" },
      ],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    });
    expect(ruleProtects(twoTags, "app", "latest")).toBe(false);
  });
});

describe("parseRuleBody", () => {
  const valid = {
    tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "release-*" }],
    scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
  };
  it.each([
    ["a regex selector", { ...valid, tag_selectors: [{ kind: "regex", decoration: "matches", pattern: "x" }] }, /kind must be "doublestar"/],
    ["a repository decoration on a tag", { ...valid, tag_selectors: [{ kind: "doublestar", decoration: "repoMatches", pattern: "x" }] }, /decoration/],
    ["no tag selector", { ...valid, tag_selectors: [] }, /at least one selector/],
    ["no repository list", { ...valid, scope_selectors: {} }, /scope_selectors.repository needs/],
    ["an empty pattern", { ...valid, tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "" }] }, /pattern/],
    ["another action", { ...valid, action: "retain" }, /action/],
    ["a string for disabled", { ...valid, disabled: "yes" }, /disabled/],
  ])("refuses %s", (_label, body, message) => {
    expect(() => parseRuleBody(body as Record<string, unknown>)).toThrow(RuleError);
    expect(() => parseRuleBody(body as Record<string, unknown>)).toThrow(message);
  });
});
