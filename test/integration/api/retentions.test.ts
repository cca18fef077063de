import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

let berth: TestBerth;
let admin: RegistryClient;
let projectId: number;
const PASSWORD = "Retention-Passw0rd";
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

const policy = (ref: number, extra: Record<string, unknown> = {}) => ({
  algorithm: "or",
  scope: { level: "project", ref },
  trigger: { kind: "Schedule", settings: { cron: "0 0 3 * * *" } },
  rules: [
    {
      template: "nDaysSinceLastPush",
      params: { nDaysSinceLastPush: 30 },
      tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "**" }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    },
  ],
  ...extra,
});

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  const created = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "kept" }));
  projectId = Number(created.headers.get("location")!.split("/").pop());
  for (const [user, role] of [["keeper", 4], ["dev", 2], ["visitor", 3]] as const) {
    await admin.createUser(user, PASSWORD);
    await admin.addMember("kept", user, role);
  }
});
afterAll(() => berth.close());

describe("retention policies API", () => {
  let location = "";

  it("describes the templates and selectors", async () => {
    const metadata = (await (await admin.fetch("/api/v2.0/retentions/metadatas")).json()) as { templates: { rule_template: string }[] };
    expect(metadata.templates.map((t) => t.rule_template)).toEqual(["latestPushedK", "latestPulledN", "nDaysSinceLastPush", "nDaysSinceLastPull", "always"]);
  });

  it("lets a maintainer create the project's one policy, with its schedule, and read it back", async () => {
    const keeper = new RegistryClient(berth.url, basicAuth("keeper", PASSWORD));
    const created = await keeper.fetch("/api/v2.0/retentions", json("POST", policy(projectId)));
    expect(created.status).toBe(201);
    location = created.headers.get("location")!;
    expect(await (await admin.fetch(location)).json()).toMatchObject({ algorithm: "or", scope: { ref: projectId }, trigger: { settings: { cron: "0 0 3 * * *" } }, rules: [{ template: "nDaysSinceLastPush" }] });
    const second = await admin.fetch("/api/v2.0/retentions", json("POST", policy(projectId)));
    expect(second.status).toBe(400);
    expect(await second.text()).toMatch(/already has retention policy/);
  });

  it("refuses bad policies with the field named, and identical rules with 409", async () => {
    const rule = policy(projectId).rules[0];
    const cases: [unknown, number, RegExp][] = [
      [policy(projectId, { rules: [{ ...rule, template: "keepAll" }] }), 400, /rules\[0\]\.template/],
      [policy(projectId, { rules: Array(16).fill(rule).map((r, i) => ({ ...r, params: { nDaysSinceLastPush: i } })) }), 400, /at most 15 rules/],
      [policy(projectId, { trigger: { kind: "Schedule", settings: { cron: "* * * * *" } } }), 400, /6 fields/],
      [policy(projectId, { rules: [rule, rule] }), 409, /rule 1 is conflict with rule 0/],
    ];
    for (const [body, status, message] of cases) {
      const response = await admin.fetch(location, json("PUT", body));
      expect(response.status).toBe(status);
      expect(await response.text()).toMatch(message);
    }
  });

  // Unlike Harbor: a run deletes artifacts, which developers may not do, so they only read retention.
  it("lets developers read the policy and its runs but not create, change, delete or run it", async () => {
    const dev = new RegistryClient(berth.url, basicAuth("dev", PASSWORD));
    expect((await dev.fetch(location)).status).toBe(200);
    expect((await dev.fetch(`${location}/executions`)).status).toBe(200);
    for (const [path, init] of [
      ["/api/v2.0/retentions", json("POST", policy(projectId))],
      [location, json("PUT", policy(projectId, { rules: [{ ...policy(projectId).rules[0], template: "always", params: {} }] }))],
      [`${location}/executions`, json("POST", { dry_run: false })],
      [location, { method: "DELETE" }],
    ] as const) {
      const refused = await dev.fetch(path, init);
      expect([path, init.method, refused.status]).toEqual([path, init.method, 403]);
    }
    const runs = (await (await admin.fetch(`${location}/executions`)).json()) as unknown[];
    expect(runs).toEqual([]);
  });

  it("keeps guests out of writes and runs; anonymous callers must log in", async () => {
    const visitor = new RegistryClient(berth.url, basicAuth("visitor", PASSWORD));
    expect((await visitor.fetch(location)).status).toBe(403);
    expect((await visitor.fetch(`${location}/executions`, json("POST", { dry_run: true }))).status).toBe(403);
    expect((await fetch(`${berth.url}${location}`)).status).toBe(401);
  });

  it("runs by hand, lists the execution and refuses to stop one that ended", async () => {
    const pushed = await admin.pushImage("kept/app", "v1");
    const started = await admin.fetch(`${location}/executions`, json("POST", { dry_run: true }));
    expect(started.status).toBe(201);
    const execution = started.headers.get("location")!;
    let runs: { id: number; status: string; dry_run: boolean }[] = [];
    await waitUntil(async () => {
      runs = (await (await admin.fetch(`${location}/executions`)).json()) as typeof runs;
      return runs[0].status !== "Running";
    }, "the retention run");
    expect(runs[0]).toMatchObject({ status: "Success", dry_run: true });
    // Each repository's task holds the decision table: Harbor's text, or rows for a client asking for JSON.
    const tasks = (await (await admin.fetch(`${location}/executions/${runs[0].id}/tasks`)).json()) as { id: number; repository: string }[];
    expect(tasks.map((t) => t.repository)).toEqual(["kept/app"]);
    const task = `${location}/executions/${runs[0].id}/tasks/${tasks[0].id}`;
    const text = await admin.fetch(task);
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toMatch(new RegExp(`^${pushed.manifestDigest} \\| v1 \\| .* \\| - \\| RETAIN \\| retained by`, "m"));
    const rows = await admin.fetch(task, { headers: { Accept: "application/json" } });
    expect(await rows.json()).toMatchObject({
      repository: "kept/app",
      status: "Success",
      decisions: [{ digest: pushed.manifestDigest, tags: ["v1"], pulled_time: null, retention: "RETAIN", reason: expect.stringMatching(/^retained by/) }],
    });
    expect((await admin.fetch(execution, json("PATCH", { action: "stop" }))).status).toBe(412);
    expect((await admin.fetch(execution, json("PATCH", { action: "pause" }))).status).toBe(400);
  });

  it("deletes the policy and clears the project's retention_id", async () => {
    expect((await admin.fetch(location, { method: "DELETE" })).status).toBe(200);
    const project = (await (await admin.fetch(`/api/v2.0/projects/${projectId}`)).json()) as { metadata: Record<string, string> };
    expect(project.metadata.retention_id).toBeUndefined();
    expect((await admin.fetch(location)).status).toBe(404);
  });
});
