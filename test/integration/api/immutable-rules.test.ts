import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
const PASSWORD = "Immutable-Passw0rd";
const RULES = "/api/v2.0/projects/team/immutabletagrules";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const ruleBody = (tag: [string, string], repository: [string, string] = ["repoMatches", "**"], extra: Record<string, unknown> = {}) => ({
  ...extra,
  tag_selectors: [{ kind: "doublestar", decoration: tag[0], pattern: tag[1] }],
  scope_selectors: { repository: [{ kind: "doublestar", decoration: repository[0], pattern: repository[1] }] },
});

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { errors: { code: string; message: string }[] }).errors[0];
}

let releaseRule: string;
beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("team", { public: false });
  for (const [user, role] of [["dev", 2], ["keeper", 4]] as const) {
    await admin.createUser(user, PASSWORD);
    await admin.addMember("team", user, role);
  }
  const created = await admin.fetch(RULES, json("POST", ruleBody(["matches", "release-*"])));
  expect(created.status).toBe(201);
  releaseRule = created.headers.get("location")!;
});
afterAll(() => berth.close());

describe("immutable tag rules: the API", () => {
  it("lists rules in Harbor's shape", async () => {
    const listed = await admin.fetch(RULES);
    expect(Number(listed.headers.get("x-total-count"))).toBe(1);
    const [rule] = (await listed.json()) as Record<string, unknown>[];
    expect(rule).toMatchObject({
      id: Number(releaseRule.split("/").pop()),
      disabled: false,
      action: "immutable",
      template: "immutable_template",
      tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "release-*" }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    });
  });

  it("refuses an identical rule with 409 and bad selectors with 400", async () => {
    expect((await admin.fetch(RULES, json("POST", ruleBody(["matches", "release-*"])))).status).toBe(409);
    const bad = await admin.fetch(RULES, json("POST", ruleBody(["resembles", "release-*"])));
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(/decoration must be one of matches, excludes/);
    expect((await admin.fetch(RULES, json("POST", { tag_selectors: [] }))).status).toBe(400);
    expect((await admin.fetch(RULES, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" })).status).toBe(400);
  });

  it("checks the id on PUT and answers unknown rules with 404", async () => {
    expect((await admin.fetch(releaseRule, json("PUT", { ...ruleBody(["matches", "release-*"]), id: 9999 }))).status).toBe(400);
    expect((await admin.fetch(`${RULES}/9999`, json("PUT", ruleBody(["matches", "x"])))).status).toBe(404);
    expect((await admin.fetch(`${RULES}/9999`, { method: "DELETE" })).status).toBe(404);
  });

  it("lets maintainers manage rules; developers may not even list them", async () => {
    const keeper = new RegistryClient(berth.url, basicAuth("keeper", PASSWORD));
    const dev = new RegistryClient(berth.url, basicAuth("dev", PASSWORD));
    expect((await dev.fetch(RULES)).status).toBe(403);
    expect((await dev.fetch(RULES, json("POST", ruleBody(["matches", "dev"])))).status).toBe(403);
    expect((await fetch(`${berth.url}${RULES}`)).status).toBe(401);
    const created = await keeper.fetch(RULES, json("POST", ruleBody(["matches", "keep-*"])));
    expect(created.status).toBe(201);
    expect((await keeper.fetch(created.headers.get("location")!, { method: "DELETE" })).status).toBe(200);
  });
});

describe("immutable tag rules: enforcement on /v2", () => {
  it("refuses to move a protected tag with 412, naming the rule; the same manifest again is fine", async () => {
    const first = await admin.pushImage("team/app", "release-1", "first");
    await expect(admin.pushImage("team/app", "release-1", "second")).rejects.toThrow(/got 412.*PRECONDITION.*release-1 is protected by immutable tag rule #\d+ \(repository matches \W+\*\*\W+ tag matches \W+release-\*/);
    await admin.pushImage("team/app", "release-1", "first");
    const tagged = await admin.fetch("/v2/team/app/manifests/release-1", { method: "HEAD" });
    expect(tagged.headers.get("docker-content-digest")).toBe(first.manifestDigest);
  });

  it("refuses to delete a protected tag or the artifact it points at", async () => {
    const image = await admin.pushImage("team/app", "release-2", "release-two");
    const byTag = await admin.fetch("/v2/team/app/manifests/release-2", { method: "DELETE" });
    expect(byTag.status).toBe(412);
    expect((await errorOf(byTag)).code).toBe("PRECONDITION");
    expect((await admin.fetch(`/v2/team/app/manifests/${image.manifestDigest}`, { method: "DELETE" })).status).toBe(412);
  });

  it("leaves other tags alone", async () => {
    await admin.pushImage("team/app", "latest", "one");
    const moved = await admin.pushImage("team/app", "latest", "two");
    expect((await admin.fetch(`/v2/team/app/manifests/${moved.manifestDigest}`, { method: "DELETE" })).status).toBe(202);
  });

  it("stops protecting once the rule is disabled, and again once enabled", async () => {
    await admin.pushImage("team/app", "release-3", "three");
    const disable = await admin.fetch(releaseRule, json("PUT", ruleBody(["matches", "release-*"], ["repoMatches", "**"], { disabled: true })));
    expect(disable.status).toBe(200);
    await admin.pushImage("team/app", "release-3", "three-again");
    expect((await admin.fetch(releaseRule, json("PUT", ruleBody(["matches", "release-*"])))).status).toBe(200);
    await expect(admin.pushImage("team/app", "release-3", "three")).rejects.toThrow(/got 412/);
  });

  it("applies repository selectors to the path inside the project", async () => {
    const scoped = await admin.fetch(RULES, json("POST", ruleBody(["matches", "**"], ["repoMatches", "frozen/**"])));
    expect(scoped.status).toBe(201);
    await admin.pushImage("team/frozen/db", "v1", "db-1");
    await expect(admin.pushImage("team/frozen/db", "v1", "db-2")).rejects.toThrow(/got 412/);
    await admin.pushImage("team/thawed", "v1", "t-1");
    await admin.pushImage("team/thawed", "v1", "t-2");
  });
});
