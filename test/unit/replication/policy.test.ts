import { destinationRepository, filtersSelect, labelsSelect, parseReplicationPolicy } from "../../../registry/replication/policy";

describe("destinationRepository (Harbor's replaceNamespace)", () => {
  it.each([
    ["a/b/c/app", "", -1, "a/b/c/app"],
    ["a/b/c/app", "ns", -1, "ns/app"],
    ["a/b/c/app", "ns", 0, "ns/a/b/c/app"],
    ["a/b/c/app", "ns", 1, "ns/b/c/app"],
    ["a/b/c/app", "ns", 2, "ns/c/app"],
    ["a/b/c/app", "ns", 3, "ns/app"],
    ["a/b/c/app", "ns", 4, null],
    ["app", "team/x", -1, "team/x/app"],
  ] as const)("%s with namespace %j and count %i → %j", (source, namespace, count, expected) => {
    expect(destinationRepository(source, namespace, count)).toBe(expected);
  });
});

describe("filtersSelect", () => {
  const filters = (name: string | null, tag: [string, "matches" | "excludes"] | null) => ({
    name,
    tag: tag && { pattern: tag[0], decoration: tag[1] },
    resource: null,
  });
  it.each([
    [filters("team-a/**", null), "team-a/x/app", "v1", true],
    [filters("team-a/**", null), "team-b/app", "v1", false],
    [filters("library/{nginx,redis}", null), "library/redis", "v1", true],
    [filters(null, ["v*", "matches"]), "app", "v2", true],
    [filters(null, ["v*", "matches"]), "app", "latest", false],
    [filters(null, ["dev-*", "excludes"]), "app", "dev-1", false],
    [filters(null, ["dev-*", "excludes"]), "app", "1.0", true],
    [filters(null, ["", "matches"]), "app", null, true],
    [filters(null, ["v*", "matches"]), "app", null, false],
  ])("%j selects %s:%s → %s", (policy, repository, tag, expected) => {
    expect(filtersSelect(policy, repository, tag)).toBe(expected);
  });
});

describe("parseReplicationPolicy", () => {
  const pull = { name: "sync", src_registry: { id: 1 }, dest_namespace: "mirror", trigger: { type: "scheduled", trigger_settings: { cron: "0 0 */2 * * *" } } };
  it("reads Harbor's shape with defaults", () => {
    expect(parseReplicationPolicy({ ...pull, filters: [{ type: "name", value: "library/**" }, { type: "tag", value: "v*" }] })).toEqual({
      name: "sync",
      description: "",
      srcRegistryId: 1,
      destRegistryId: null,
      destNamespace: "mirror",
      destNamespaceReplaceCount: -1,
      trigger: { type: "scheduled", cron: "0 0 */2 * * *" },
      filters: { name: "library/**", tag: { pattern: "v*", decoration: "matches" }, resource: null, label: null },
      override: true,
      deletion: false,
      enabled: true,
      speed: 0,
    });
  });

  it.each([
    ["both sides remote", { ...pull, dest_registry: { id: 2 } }, /exactly one of src_registry and dest_registry/],
    ["neither side remote", { name: "x" }, /exactly one/],
    ["a cron every minute", { ...pull, trigger: { type: "scheduled", trigger_settings: { cron: "0 * * * * *" } } }, /minute field must not be \*/],
    ["a bad cron", { ...pull, trigger: { type: "scheduled", trigger_settings: { cron: "0 0 0 * *" } } }, /6 fields/],
    ["event triggers on a pull policy", { ...pull, trigger: { type: "event_based" } }, /push-based/],
    ["spaces in alternatives", { ...pull, filters: [{ type: "name", value: "library/{a, b}" }] }, /no spaces/],
    ["a decoration on a name filter", { ...pull, filters: [{ type: "name", value: "x", decoration: "excludes" }] }, /takes no decoration/],
    ["a label filter on a pull policy", { ...pull, filters: [{ type: "label", value: ["x"] }] }, /label filters need a push-based policy/],
    ["a label filter without names", { name: "x", dest_registry: { id: 2 }, filters: [{ type: "label", value: "x" }] }, /list of label names/],
    ["a bad namespace", { ...pull, dest_namespace: "Upper/Case" }, /dest_namespace/],
    ["a bad replace count", { ...pull, dest_namespace_replace_count: -2 }, /replace_count/],
  ])("refuses %s", (_label, body, message) => {
    expect(() => parseReplicationPolicy(body as Record<string, unknown>)).toThrow(message);
  });
});

describe("label filters (push-based policies)", () => {
  const push = { name: "ship", dest_registry: { id: 2 } };
  const parsed = (decoration?: string) =>
    parseReplicationPolicy({ ...push, filters: [{ type: "label", value: ["release", " qa "], ...(decoration ? { decoration } : {}) }] }).filters;

  it("reads Harbor's label filter: a list of names, matches by default", () => {
    expect(parsed().label).toEqual({ names: ["release", "qa"], decoration: "matches" });
  });

  it.each([
    ["matches: carrying all of them", undefined, ["qa", "release", "other"], true],
    ["matches: carrying only some", undefined, ["release"], false],
    ["excludes: carrying all of them", "excludes", ["release", "qa"], false],
    ["excludes: carrying only some", "excludes", ["qa"], true],
  ])("%s", (_label, decoration, carried, expected) => {
    expect(labelsSelect(parsed(decoration), carried)).toBe(expected);
  });

  it("lets everything through without a label filter (policies stored before labels have none)", () => {
    expect(labelsSelect({ name: null, tag: null, resource: null }, [])).toBe(true);
  });
});
