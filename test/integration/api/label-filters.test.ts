import { ADMIN_PASSWORD, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

/** Retention's `label` selector and replication's `label` filter honour the labels artifacts carry (issue 18). */
let berth: TestBerth;
let admin: RegistryClient;
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const idOf = (response: Response) => {
  expect(response.status).toBe(201);
  return Number(response.headers.get("location")!.split("/").pop());
};
const projectId = async (name: string) => ((await (await admin.fetch(`/api/v2.0/projects/${name}`)).json()) as { project_id: number }).project_id;
const label = async (repository: string, reference: string, id: number) => {
  const [project, ...path] = repository.split("/");
  const response = await admin.fetch(`/api/v2.0/projects/${project}/repositories/${encodeURIComponent(path.join("/"))}/artifacts/${reference}/labels`, json("POST", { id }));
  expect(response.status).toBe(200);
};

let release: number;
beforeAll(async () => {
  berth = await startBerth({ env: RECEIVERS_ON_LOOPBACK });
  admin = new RegistryClient(berth.url);
  release = idOf(await admin.fetch("/api/v2.0/labels", json("POST", { name: "release", scope: "g" })));
});
afterAll(() => berth.close());

describe("retention label selectors", () => {
  it("lists the label selector among the tag selectors", async () => {
    const metadata = (await (await admin.fetch("/api/v2.0/retentions/metadatas")).json()) as { tag_selectors: { kind: string; decorations: string[] }[] };
    expect(metadata.tag_selectors).toContainEqual({ display_text: "Labels", kind: "label", decorations: ["withLabels", "withoutLabels"] });
  });

  it("keeps what carries the labels and deletes the rest of the repository", async () => {
    await admin.createProject("kept", { public: false });
    const labelled = await admin.pushImage("kept/app", "v1", "v1");
    const plain = await admin.pushImage("kept/app", "v2", "v2");
    await label("kept/app", "v1", release);
    const rule = {
      template: "always",
      tag_selectors: [
        { kind: "doublestar", decoration: "matches", pattern: "**" },
        { kind: "label", decoration: "withLabels", pattern: "release" },
      ],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    };
    const body = { algorithm: "or", scope: { level: "project", ref: await projectId("kept") }, trigger: { kind: "Schedule", settings: { cron: "" } }, rules: [rule] };
    const created = await admin.fetch("/api/v2.0/retentions", json("POST", body));
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    // Read back as written.
    expect(((await (await admin.fetch(location)).json()) as { rules: { tag_selectors: unknown[] }[] }).rules[0].tag_selectors).toEqual(rule.tag_selectors);
    expect((await admin.fetch(`${location}/executions`, json("POST", { dry_run: false }))).status).toBe(201);
    await waitUntil(async () => ((await (await admin.fetch(`${location}/executions`)).json()) as { status: string }[])[0].status !== "Running", "the retention run");
    expect(((await (await admin.fetch(`${location}/executions`)).json()) as { status: string }[])[0].status).toBe("Success");
    expect(await admin.digestOf("kept/app", "v1")).toBe(labelled.manifestDigest);
    expect(await admin.digestOf("kept/app", "v2")).toBeNull();
    expect(plain.manifestDigest).not.toBe(labelled.manifestDigest);
  });

  it("refuses a label selector without names", async () => {
    await admin.createProject("other", { public: false });
    const rule = {
      template: "always",
      tag_selectors: [{ kind: "label", decoration: "withLabels", pattern: "" }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    };
    const refused = await admin.fetch("/api/v2.0/retentions", json("POST", { scope: { level: "project", ref: await projectId("other") }, rules: [rule] }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/tag_selectors\[0\]\.pattern must list label names/);
  });
});

describe("replication label filters", () => {
  it("pushes only the artifacts carrying the labels, and says why the others were skipped", async () => {
    const second = await startBerth();
    try {
      await admin.createProject("ship", { public: false });
      const labelled = await admin.pushImage("ship/app", "v1", "ship-v1");
      await admin.pushImage("ship/app", "v2", "ship-v2");
      await label("ship/app", "v1", release);
      const registry = { name: "second", type: "berth", url: second.url, credential: { access_key: "admin", access_secret: ADMIN_PASSWORD } };
      const secondId = idOf(await admin.fetch("/api/v2.0/registries", json("POST", registry)));
      const filters = [
        { type: "name", value: "ship/**" },
        { type: "label", value: ["release"], decoration: "matches" },
      ];
      const policyId = idOf(await admin.fetch("/api/v2.0/replication/policies", json("POST", { name: "releases", dest_registry: { id: secondId }, filters })));
      expect(((await (await admin.fetch(`/api/v2.0/replication/policies/${policyId}`)).json()) as { filters: unknown[] }).filters).toEqual(filters);

      const executionId = idOf(await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policyId })));
      let status = "InProgress";
      await waitUntil(async () => {
        status = ((await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}`)).json()) as { status: string }).status;
        return status !== "InProgress";
      }, "the replication run");
      expect(status).toBe("Succeed");
      const target = new RegistryClient(second.url);
      expect(await target.digestOf("ship/app", "v1")).toBe(labelled.manifestDigest);
      expect(await target.digestOf("ship/app", "v2")).toBeNull();
      const tasks = (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks`)).json()) as { id: number; src_resource: string }[];
      const skipped = tasks.find((t) => t.src_resource === "ship/app:v2")!;
      expect(await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks/${skipped.id}/log`)).text()).toMatch(/does not pass the label filter \(matches release\): skipped/);
    } finally {
      await second.close();
    }
  });

  it("refuses label filters on pull-based policies: labels are this registry's", async () => {
    const upstream = idOf(await admin.fetch("/api/v2.0/registries", json("POST", { name: "upstream", type: "docker-registry", url: "http://127.0.0.1:9" })));
    const refused = await admin.fetch("/api/v2.0/replication/policies", json("POST", { name: "pull", src_registry: { id: upstream }, filters: [{ type: "label", value: ["release"] }] }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/label filters need a push-based policy/);
  });
});
