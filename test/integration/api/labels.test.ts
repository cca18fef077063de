import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let keeper: RegistryClient;
let dev: RegistryClient;
let teamId: number;
let otherId: number;
const PASSWORD = "Labels-Passw0rd";
const LABELS = "/api/v2.0/labels";
const ARTIFACTS = "/api/v2.0/projects/team/repositories/app/artifacts";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const errorOf = async (response: Response) => ((await response.json()) as { errors: { code: string; message: string }[] }).errors[0];
const idOf = (response: Response) => Number(response.headers.get("location")!.split("/").pop());
const projectId = async (name: string) => ((await (await admin.fetch(`/api/v2.0/projects/${name}`)).json()) as { project_id: number }).project_id;

async function created(client: RegistryClient, body: Record<string, unknown>): Promise<number> {
  const response = await client.fetch(LABELS, json("POST", body));
  expect(response.status).toBe(201);
  return idOf(response);
}

const labelsOf = async (client: RegistryClient, reference: string) =>
  ((await (await client.fetch(`${ARTIFACTS}/${reference}`)).json()) as { labels: { name: string }[] }).labels.map((l) => l.name);

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("team", { public: false });
  await admin.createProject("other", { public: false });
  for (const [user, role] of [["dev", 2], ["keeper", 4]] as const) {
    await admin.createUser(user, PASSWORD);
    await admin.addMember("team", user, role);
  }
  keeper = new RegistryClient(berth.url, basicAuth("keeper", PASSWORD));
  dev = new RegistryClient(berth.url, basicAuth("dev", PASSWORD));
  teamId = await projectId("team");
  otherId = await projectId("other");
  await admin.pushImage("team/app", "v1", "one");
  await admin.pushImage("team/app", "v2", "two");
});
afterAll(() => berth.close());

describe("labels: /labels", () => {
  it("creates a global label and shows it in Harbor's shape", async () => {
    const id = await created(admin, { name: "release", description: "shipped", color: "#00AA00", scope: "g" });
    const label = await (await admin.fetch(`${LABELS}/${id}`)).json();
    expect(label).toEqual({
      id,
      name: "release",
      description: "shipped",
      color: "#00AA00",
      scope: "g",
      project_id: 0,
      creation_time: expect.any(String),
      update_time: expect.any(String),
    });
    // Every logged-in caller sees global labels; anonymous callers do not.
    expect((await dev.fetch(`${LABELS}/${id}`)).status).toBe(200);
    expect((await fetch(`${berth.url}${LABELS}/${id}`)).status).toBe(401);
  });

  it("refuses a second label of the same name in a scope with 409, and bad fields with 400", async () => {
    const twin = await admin.fetch(LABELS, json("POST", { name: "release", scope: "g" }));
    expect(twin.status).toBe(409);
    expect((await errorOf(twin)).code).toBe("CONFLICT");
    expect((await admin.fetch(LABELS, json("POST", { name: "a,b", scope: "g" }))).status).toBe(400);
    expect((await admin.fetch(LABELS, json("POST", { name: "x", color: "green", scope: "g" }))).status).toBe(400);
    expect((await admin.fetch(LABELS, json("POST", { name: "x", scope: "q" }))).status).toBe(400);
    const noProject = await admin.fetch(LABELS, json("POST", { name: "x", scope: "p" }));
    expect(noProject.status).toBe(400);
    expect((await errorOf(noProject)).message).toMatch(/project_id/);
    // The same name in a project's scope is another label.
    await created(admin, { name: "release", scope: "p", project_id: otherId });
  });

  it("lets project admins and maintainers manage project labels; developers only read them; global ones take a system admin", async () => {
    const id = await created(keeper, { name: "qa-passed", scope: "p", project_id: teamId, color: "#123456" });
    expect((await dev.fetch(LABELS, json("POST", { name: "dev-made", scope: "p", project_id: teamId }))).status).toBe(403);
    expect((await keeper.fetch(LABELS, json("POST", { name: "global-try", scope: "g" }))).status).toBe(403);
    expect((await keeper.fetch(LABELS, json("POST", { name: "elsewhere", scope: "p", project_id: otherId }))).status).toBe(403);
    expect((await dev.fetch(`${LABELS}/${id}`)).status).toBe(200);
    expect((await dev.fetch(`${LABELS}/${id}`, json("PUT", { color: "#000000" }))).status).toBe(403);
    expect((await keeper.fetch(`${LABELS}/${id}`, json("PUT", { description: "QA signed off", scope: "g" }))).status).toBe(200);
    const changed = (await (await keeper.fetch(`${LABELS}/${id}`)).json()) as Record<string, unknown>;
    expect(changed).toMatchObject({ name: "qa-passed", description: "QA signed off", color: "#123456", scope: "p", project_id: teamId });
    // A label of a project the caller is not in is refused like the project is.
    const hidden = (await (await admin.fetch(`${LABELS}?scope=p&project_id=${otherId}`)).json()) as { id: number }[];
    expect((await keeper.fetch(`${LABELS}/${hidden[0].id}`)).status).toBe(403);
    expect((await admin.fetch(`${LABELS}/99999`)).status).toBe(404);
    expect((await admin.fetch(`${LABELS}/abc`)).status).toBe(400);
  });

  it("lists a scope's labels with name filters and paging", async () => {
    await created(admin, { name: "release-candidate", scope: "g" });
    await created(admin, { name: "deprecated", scope: "g" });
    const all = await admin.fetch(`${LABELS}?scope=g&page_size=2`);
    expect(all.headers.get("x-total-count")).toBe("3");
    expect(all.headers.get("link")).toMatch(/rel="next"/);
    expect(((await all.json()) as { name: string }[]).map((l) => l.name)).toEqual(["deprecated", "release"]);
    const names = async (query: string) => ((await (await dev.fetch(`${LABELS}?${query}`)).json()) as { name: string }[]).map((l) => l.name);
    expect(await names("scope=g&q=name%3D~release")).toEqual(["release", "release-candidate"]);
    expect(await names("scope=g&q=name%3Drelease")).toEqual(["release"]);
    expect(await names("scope=g&name=cand")).toEqual(["release-candidate"]);
    expect(await names(`scope=p&project_id=${teamId}`)).toEqual(["qa-passed"]);
    expect((await dev.fetch(`${LABELS}?scope=p&project_id=${otherId}`)).status).toBe(403);
    expect((await dev.fetch(`${LABELS}?scope=p`)).status).toBe(400);
  });
});

describe("labels on artifacts", () => {
  let release: number;
  let qa: number;
  beforeAll(async () => {
    const global = (await (await admin.fetch(`${LABELS}?scope=g&q=name%3Drelease`)).json()) as { id: number }[];
    release = global[0].id;
    qa = ((await (await admin.fetch(`${LABELS}?scope=p&project_id=${teamId}`)).json()) as { id: number }[])[0].id;
  });

  it("adds global and project labels to an artifact (developers may); the artifact and the list show them", async () => {
    expect((await dev.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: release }))).status).toBe(200);
    expect((await dev.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: qa }))).status).toBe(200);
    expect(await labelsOf(dev, "v1")).toEqual(["release", "qa-passed"]);
    const [shown] = ((await (await dev.fetch(`${ARTIFACTS}/v1`)).json()) as { labels: Record<string, unknown>[] }).labels;
    expect(shown).toMatchObject({ id: release, name: "release", scope: "g", project_id: 0 });
    const list = (await (await dev.fetch(ARTIFACTS)).json()) as { tags: { name: string }[]; labels: { name: string }[] }[];
    const byTag = Object.fromEntries(list.map((a) => [a.tags[0].name, a.labels.map((l) => l.name)]));
    expect(byTag).toEqual({ v1: ["release", "qa-passed"], v2: [] });
  });

  it("answers a label added twice with 409, another project's label or an unknown one with 404", async () => {
    const twice = await dev.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: release }));
    expect(twice.status).toBe(409);
    const foreign = ((await (await admin.fetch(`${LABELS}?scope=p&project_id=${otherId}`)).json()) as { id: number }[])[0].id;
    expect((await admin.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: foreign }))).status).toBe(404);
    expect((await admin.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: 99999 }))).status).toBe(404);
    expect((await admin.fetch(`${ARTIFACTS}/v1/labels`, json("POST", { id: "x" }))).status).toBe(400);
    expect((await admin.fetch(`${ARTIFACTS}/nope/labels`, json("POST", { id: release }))).status).toBe(404);
  });

  it("removes a label from an artifact, 404 when it does not carry it; the change is in the audit log", async () => {
    expect((await dev.fetch(`${ARTIFACTS}/v1/labels/${qa}`, { method: "DELETE" })).status).toBe(200);
    expect((await dev.fetch(`${ARTIFACTS}/v1/labels/${qa}`, { method: "DELETE" })).status).toBe(404);
    expect(await labelsOf(dev, "v1")).toEqual(["release"]);
    const logs = (await (await admin.fetch("/api/v2.0/projects/team/logs?page_size=50")).json()) as { operation: string; resource: string }[];
    expect(logs.filter((l) => l.operation === "update" && l.resource.startsWith("team/app@")).length).toBeGreaterThanOrEqual(3);
  });

  it("deleting a label takes it off every artifact; deleting an artifact forgets its labels", async () => {
    const doomed = await created(admin, { name: "doomed", scope: "g" });
    expect((await admin.fetch(`${ARTIFACTS}/v2/labels`, json("POST", { id: doomed }))).status).toBe(200);
    expect((await admin.fetch(`${LABELS}/${doomed}`, { method: "DELETE" })).status).toBe(200);
    expect(await labelsOf(admin, "v2")).toEqual([]);
    expect((await admin.fetch(`${LABELS}/${doomed}`)).status).toBe(404);
    const { manifestDigest } = await admin.pushImage("team/app", "v3", "three");
    expect((await admin.fetch(`${ARTIFACTS}/v3/labels`, json("POST", { id: release }))).status).toBe(200);
    expect((await admin.fetch(`${ARTIFACTS}/${manifestDigest}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`${LABELS}/${release}`)).status).toBe(200);
  });
});
