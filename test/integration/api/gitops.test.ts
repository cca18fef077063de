/**
 * The GitOps controller's state as the web UI reads it: /api/v2.0/gitops/status (system admins) after a commit was
 * applied and a drift run put a hand-made change back, which objects of a project are managed (as far as the caller
 * may see them), and the `managed_by_policy` marker on projects. The controller runs in-process (reconcile), as its
 * watcher runs it, against a real server.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiClient } from "../../../controller/api-client";
import { reconcile } from "../../../controller/apply/reconcile";
import { loadPolicy } from "../../../controller/policy/load";
import { sourceOfDirectory } from "../../../controller/watch/source";
import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { commitAll } from "../../support/policy-repo";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let repo: string;
let commit: string;
const PASSWORD = "GitOps-Passw0rd";
const AUTHOR = { name: "Alice Example", email: "alice@example.com" };
const as = (user: string) => new RegistryClient(berth.url, basicAuth(user, PASSWORD));

const PROJECTS_YAML = `projects:
  - name: team
    public: false
    immutableTags:
      - repositories: "**"
        tags: "release-*"
`;
const MEMBERS_YAML = `members:
  team:
    - user: dev
      role: developer
    - user: watcher
      role: limitedGuest
robots:
  - name: ci
    project: team
    access: [pull]
    duration: 30
`;

async function run(trigger: "commit" | "schedule"): Promise<string> {
  const client = new ApiClient({ url: berth.url, username: "admin", password: ADMIN_PASSWORD });
  const outcome = await reconcile({
    client,
    policy: await loadPolicy(repo),
    user: "admin",
    trigger,
    commit,
    author: `${AUTHOR.name} <${AUTHOR.email}>`,
    runId: randomUUID(),
    source: await sourceOfDirectory(repo),
  });
  return outcome.result;
}

interface Run {
  commit: string;
  author: string;
  trigger: string;
  result: string;
  applied: string[];
}

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  for (const user of ["dev", "watcher", "outsider"]) await admin.createUser(user, PASSWORD);
  repo = await mkdtemp(path.join(tmpdir(), "berth-gitops-"));
  await writeFile(path.join(repo, "projects.yaml"), PROJECTS_YAML);
  await writeFile(path.join(repo, "members.yaml"), MEMBERS_YAML);
  execFileSync("git", ["-C", repo, "init", "-q", "-b", "main"]);
  commit = await commitAll(repo, AUTHOR, "Team policies");
  expect(await run("commit")).toBe("success");
  // A hand-made change the next drift run puts back.
  const changed = await admin.fetch("/api/v2.0/projects/team", { method: "PUT", headers: { "Content-Type": "application/json" }, body: '{"metadata":{"public":"true"}}' });
  expect(changed.status).toBe(200);
  expect(await run("schedule")).toBe("success");
}, 60_000);
afterAll(async () => {
  await berth?.close();
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("GET /api/v2.0/gitops/status", () => {
  it("shows the source, the last applied commit with its author, the last drift run and what it corrected", async () => {
    const response = await admin.fetch("/api/v2.0/gitops/status");
    expect(response.status).toBe(200);
    const status = (await response.json()) as {
      managed: boolean;
      source: { repo: string; branch: string; description: string };
      suspended: boolean;
      drift_mode: string;
      last_applied: { commit: string; author: string; applied_at: string };
      last_drift_run: Run;
      runs: Run[];
      inventory: Record<string, number>;
    };
    expect(status).toMatchObject({ managed: true, suspended: false, drift_mode: "correct", source: { branch: "main" } });
    expect(status.last_applied).toMatchObject({ commit, author: "Alice Example <alice@example.com>" });
    expect(Date.parse(status.last_applied.applied_at)).not.toBeNaN();
    expect(status.last_drift_run).toMatchObject({ trigger: "schedule", result: "success", applied: ["update project team"] });
    expect(status.runs.map((r) => [r.trigger, r.result])).toEqual([["schedule", "success"], ["commit", "success"]]);
    expect(status.runs[1].applied).toEqual(expect.arrayContaining(["create project team", "create member team/dev", "create robot team+ci"]));
    expect(status.inventory).toMatchObject({ project: 1, member: 2, robot: 1, immutability: 1 });
  });

  it("shows a suspension and its reason", async () => {
    const suspend = (suspended: boolean) =>
      admin.fetch("/api/v2.0/controller/suspend", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ suspended, reason: "maintenance" }) });
    expect((await suspend(true)).status).toBe(200);
    expect(await (await admin.fetch("/api/v2.0/gitops/status")).json()).toMatchObject({ suspended: true, suspend_reason: "maintenance" });
    expect(await (await as("dev").fetch("/api/v2.0/projects/team/gitops")).json()).toEqual(expect.not.objectContaining({ suspend_reason: expect.anything() }));
    expect((await suspend(false)).status).toBe(200);
  });

  it("lists every managed object with the file that declares it, for system admins only", async () => {
    const managed = (await (await admin.fetch("/api/v2.0/gitops/managed?kind=member")).json()) as { key: string; file: string }[];
    expect(managed.map((m) => [m.key, m.file])).toEqual([["team/dev", "members.yaml"], ["team/watcher", "members.yaml"]]);
    expect((await admin.fetch("/api/v2.0/gitops/managed?kind=no%20such")).status).toBe(400);
    for (const path of ["/api/v2.0/gitops/status", "/api/v2.0/gitops/managed"]) {
      expect((await as("dev").fetch(path)).status).toBe(403);
      expect((await new RegistryClient(berth.url, null).fetch(path)).status).toBe(401);
    }
  });
});

describe("managed by policy, per project", () => {
  it("tells a member which objects of the project are managed, as far as the member may see them", async () => {
    const developer = (await (await as("dev").fetch("/api/v2.0/projects/team/gitops")).json()) as { managed: boolean; drift_mode: string; objects: { kind: string; key: string; file: string }[] };
    expect(developer.managed).toBe(true);
    expect(developer.drift_mode).toBe("correct");
    // Developers list members and robots, but not the immutable tag rules.
    expect(developer.objects.map((o) => `${o.kind} ${o.key} ${o.file}`)).toEqual([
      "member team/dev members.yaml",
      "member team/watcher members.yaml",
      "project team projects.yaml",
      "robot team+ci members.yaml",
    ]);
    const limited = (await (await as("watcher").fetch("/api/v2.0/projects/team/gitops")).json()) as { objects: { kind: string }[] };
    expect(limited.objects.map((o) => o.kind)).toEqual(["project"]);
    const everything = (await (await admin.fetch("/api/v2.0/projects/team/gitops")).json()) as { objects: { kind: string }[] };
    expect(everything.objects.map((o) => o.kind)).toEqual(["immutability", "member", "member", "project", "robot"]);
  });

  it("answers an unmanaged project with nothing managed, and refuses those who may not read the project", async () => {
    expect(await (await admin.fetch("/api/v2.0/projects/library/gitops")).json()).toMatchObject({ managed: false, objects: [] });
    expect((await as("outsider").fetch("/api/v2.0/projects/team/gitops")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/projects/team/gitops")).status).toBe(401);
  });

  it("marks managed projects in listings and on the project itself", async () => {
    const listed = (await (await admin.fetch("/api/v2.0/projects?sort=name")).json()) as { name: string; managed_by_policy: string | null }[];
    expect(listed.map((p) => [p.name, p.managed_by_policy])).toEqual([["library", null], ["team", "projects.yaml"]]);
    expect(await (await as("dev").fetch("/api/v2.0/projects/team")).json()).toMatchObject({ managed_by_policy: "projects.yaml" });
  });
});
