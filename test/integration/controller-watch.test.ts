/**
 * `berth-controller watch` as a process: it follows a git repository, applies new commits, puts back changes made
 * by hand on its schedule (with the commit in the audit log), stays away while suspended, parks a broken commit.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { runCli, spawnCli } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile, headOf } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";


let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let repo: string;
let work: string;
let watcher: ChildProcess;
let output = "";
let health: string;

const BOB = { name: "Bob Ops", email: "bob@example.com" };
const env = () => controllerEnv(server.url);
const commit = (message: string) => commitAll(repo, BOB, message);
const edit = (file: string, change: (text: string) => string) => editFile(repo, file, change);

async function readyz(): Promise<{ status: number; body: { appliedRevision: string | null; failedRevision: string | null; lastError: string | null; suspended: boolean } }> {
  const response = await fetch(`${health}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

async function aliceMember(): Promise<{ id: number } | undefined> {
  const members = (await (await admin.fetch("/api/v2.0/projects/dev-team/members?entityname=alice")).json()) as { id: number; entity_name: string }[];
  return members.find((m) => m.entity_name === "alice");
}

const controllerCli = async (args: string[]) => (await runCli("berth-controller", args, env())).code;

beforeAll(async () => {
  environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
  repo = await createPolicyRepo("berth-watch-repo-", BOB);
  work = await mkdtemp(path.join(tmpdir(), "berth-watch-work-"));
  watcher = spawnCli("berth-controller", ["watch"], {
    ...env(),
    BERTH_CONTROLLER_REPO: repo,
    BERTH_CONTROLLER_BRANCH: "main",
    BERTH_CONTROLLER_SCHEDULE: "*/2 * * * * *",
    BERTH_CONTROLLER_POLL_SECONDS: "0.5",
    BERTH_CONTROLLER_ADDR: "127.0.0.1:0",
    BERTH_CONTROLLER_WORKDIR: path.join(work, "clone"),
  }).child;
  watcher.stdout!.on("data", (chunk) => (output += chunk));
  watcher.stderr!.on("data", (chunk) => (output += chunk));
  await waitUntil(() => /health on (http:\/\/[\d.:]+)/.test(output), "the controller to start");
  health = /health on (http:\/\/[\d.:]+)/.exec(output)![1];
}, 120_000);
afterAll(async () => {
  watcher?.kill("SIGKILL");
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  await Promise.all([repo, work].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("berth-controller watch", () => {
  it("applies the repository's head and reports ready", async () => {
    const head = await headOf(repo);
    await waitUntil(async () => (await readyz()).body.appliedRevision === head, "the first commit to be applied");
    expect((await readyz()).status).toBe(200);
    expect(await aliceMember()).toBeDefined();
    expect((await fetch(`${health}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${health}/metrics`)).text();
    expect(metrics).toMatch(/berth_controller_runs_total\{trigger="commit",result="success"\} 1/);
    expect(metrics).toContain(`berth_controller_last_applied_info{revision="${head}"} 1`);
  });

  it("puts back a membership deleted by hand on its schedule, and the audit log names the commit", async () => {
    const head = await headOf(repo);
    const alice = await aliceMember();
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${alice!.id}`, { method: "DELETE" })).status).toBe(200);
    await waitUntil(async () => (await aliceMember()) !== undefined, "the scheduled run to put alice back");
    const records = (await (await admin.fetch("/api/v2.0/audit-logs?q=operation%3Dcreate&page_size=100")).json()) as { resource_type: string; change_ref: string | null }[];
    const recreated = records.find((r) => r.resource_type === "member" && r.change_ref?.includes(`commit ${head} by Bob Ops <bob@example.com>`) && r.change_ref.includes("schedule"));
    expect(recreated).toBeDefined();
  });

  it("applies a new commit once", async () => {
    await edit("projects.yaml", (text) => text.replace("  - name: platform\n    public: true", "  - name: platform\n    public: false"));
    const sha = await commit("platform goes private");
    await waitUntil(async () => (await readyz()).body.appliedRevision === sha, "the new commit to be applied");
    expect(((await (await admin.fetch("/api/v2.0/projects/platform")).json()) as { metadata: { public: string } }).metadata.public).toBe("false");
    const history = (await (await admin.fetch("/api/v2.0/controller/runs?page_size=100")).json()) as { commit: string; trigger: string }[];
    expect(history.filter((run) => run.commit === sha && run.trigger === "commit")).toHaveLength(1);
  });

  it("leaves hand-made changes alone while suspended, and corrects them on resume", async () => {
    expect(await controllerCli(["suspend", "--reason", "maintenance"])).toBe(0);
    await waitUntil(async () => (await readyz()).body.suspended, "the controller to see the suspension");
    const alice = await aliceMember();
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${alice!.id}`, { method: "DELETE" })).status).toBe(200);
    // Two more scheduled ticks pass while suspended: nothing is put back.
    const ticks = async () => Number(/berth_controller_runs_total\{trigger="schedule",result="suspended"\} (\d+)/.exec(await (await fetch(`${health}/metrics`)).text())?.[1] ?? 0);
    const before = await ticks();
    await waitUntil(async () => (await ticks()) >= before + 2, "two suspended ticks");
    expect(await aliceMember()).toBeUndefined();
    expect(await controllerCli(["resume"])).toBe(0);
    await waitUntil(async () => (await aliceMember()) !== undefined, "the correction after resume");
  });

  it("parks a broken commit with the reason, and applies the fix", async () => {
    await edit("members.yaml", (text) => text.replace("role: guest", "role: owner"));
    const broken = await commit("typo");
    await waitUntil(async () => (await readyz()).body.failedRevision === broken, "the broken commit to be parked");
    const status = await readyz();
    expect(status.status).toBe(503);
    expect(status.body.lastError).toMatch(/members\.yaml:\d+:\d+: members\.platform\.0\.role: must be one of/);
    await edit("members.yaml", (text) => text.replace("role: owner", "role: guest"));
    const fixed = await commit("fix the typo");
    await waitUntil(async () => (await readyz()).body.appliedRevision === fixed, "the fix to be applied");
    expect((await readyz()).status).toBe(200);
  });
});
