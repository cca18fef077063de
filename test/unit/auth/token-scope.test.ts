import { parseScopes } from "../../../registry/auth/token-service";

describe("parseScopes", () => {
  it("reads type, name and comma-separated actions", () => {
    expect(parseScopes(["repository:team/app:pull,push"])).toEqual([{ type: "repository", name: "team/app", actions: ["pull", "push"] }]);
  });

  it("takes the name from between the first and the last colon, so it may hold a host:port", () => {
    expect(parseScopes(["repository:registry.local:5000/team/app:pull"])).toEqual([
      { type: "repository", name: "registry.local:5000/team/app", actions: ["pull"] },
    ]);
  });

  it("accepts several scopes per parameter (space-separated) and repeated parameters", () => {
    expect(parseScopes(["repository:a/b:pull  registry:catalog:*", "repository:c/d:delete"])).toEqual([
      { type: "repository", name: "a/b", actions: ["pull"] },
      { type: "registry", name: "catalog", actions: ["*"] },
      { type: "repository", name: "c/d", actions: ["delete"] },
    ]);
  });

  it("keeps a scope with no actions and drops malformed ones", () => {
    expect(parseScopes(["repository:a/b:", "junk", "repository:a/b", ""])).toEqual([{ type: "repository", name: "a/b", actions: [] }]);
    expect(parseScopes([])).toEqual([]);
  });
});
