import { globMatches } from "../../../registry/policy/doublestar";

// Go's doublestar (Harbor's matcher) is the reference: patterns written for Harbor must select the same things.
describe("globMatches reads patterns as Harbor's doublestar does", () => {
  it.each([
    ["team/x/app", "team/**", true],
    ["team/app", "*", false],
    ["v2", "{v1,v2}", true],
    ["beta", "[!d]*", true],
    ["dev", "[!d]*", false],
    ["v1", "!v1", false],
    ["!v1", "!v1", true],
    ["v1", "@(v1|v2)", false],
    ["v1", "+(v)1", false],
    [".hidden", "*", true],
  ])("%s against %s → %s", (value, pattern, expected) => {
    expect(globMatches(value, pattern)).toBe(expected);
  });
});
