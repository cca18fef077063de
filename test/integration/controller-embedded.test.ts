/**
 * `berth serve` as a new user starts it: the registry creates its own policy repository under the data directory
 * (only `library`), applies each commit there within seconds, leaves Harbor's calls free to create what they like,
 * and refuses a standalone controller from another repository unless it takes over (audited), after which the
 * embedded controller stands down and says so in `berth-controller status`.
 */
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ADMIN_PASSWORD, prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { runCli, spawnCli } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile, headOf } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";

const git = promisify(execFile);
const CAROL = { name: "Carol Platform", email: "carol@example.com" };

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let own: string;
let other: string | undefined;

const json = async <T>(path: string): Promise<T> => (await (await admin.fetch(path)).json()) as T;
const names = async (path: string, field: string) => (await json<Record<string, unknown>[]>(path)).map((item) => item[field]).sort();
const cli = (args: string[]) => runCli("berth-controller", args, controllerEnv(server.url));

beforeAll(async () => {
  environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
  const { BERTH_CONTROLLER_REPO: _off, ...env } = environment.env;
  server = await spawnBerth(env);
  admin = new RegistryClient(server.url);
  own = path.join(environment.dataDir, "policies");
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (other) await rm(other, { recursive: true, force: true });
});

it("creates its own policy repository with only library, and applies it as the managing source", async () => {
  await waitUntil(async () => (await json<{ source: string; result: string }[]>("/api/v2.0/controller/runs")).some((run) => run.result === "no-op"), "the first apply");
  const { stdout: branch } = await git("git", ["-C", own, "branch", "--show-current"]);
  expect(branch.trim()).toBe("main");
  const { stdout: log } = await git("git", ["-C", own, "log", "--format=%an %s"]);
  expect(log.trim().split("\n")).toEqual(["Berth Initial policy: the public project library"]);
  expect(await readFile(path.join(own, "projects.yaml"), "utf8")).toMatch(/^ {2}- name: library\n {4}public: true$/m);

  expect(await names("/api/v2.0/projects", "name")).toEqual(["library"]);
  expect(await names("/api/v2.0/users", "username")).toEqual(["admin"]);
  const status = await cli(["status"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`managed by:  ${realpathSync(own)} (branch main)`);
  await waitUntil(async () => (await cli(["status"])).stdout.includes("state:     ready"), "the watcher to report ready");
});

it("answers the migration guide's Harbor calls with 201", async () => {
  const post = (path: string, body: unknown) => admin.fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect((await post("/api/v2.0/projects", { project_name: "dev-team", public: false })).status).toBe(201);
  expect((await post("/api/v2.0/users", { username: "alice", email: "alice@example.com", realname: "Alice", password: "Alice-Passw0rd-1" })).status).toBe(201);
  expect((await post("/api/v2.0/projects/dev-team/members", { role_id: 2, member_user: { username: "alice" } })).status).toBe(201);
});

it("applies a commit to its repository within seconds", async () => {
  await editFile(own, "projects.yaml", (text) => text.replace("projects:\n", "projects:\n  - name: team-b\n    public: false\n"));
  const sha = await commitAll(own, CAROL, "Add team-b");
  const started = Date.now();
  await waitUntil(async () => (await admin.fetch("/api/v2.0/projects/team-b")).status === 200, "team-b to be created");
  process.stdout.write(`a commit in the registry's own repository was applied after ${Date.now() - started} ms\n`);
  const records = await json<{ resource: string; username: string; change_ref: string }[]>("/api/v2.0/audit-logs?q=resource_type%3Dproject&page_size=50");
  expect(records.find((r) => r.resource === "team-b")).toMatchObject({ username: "system:controller", change_ref: expect.stringContaining(`commit ${sha} by ${CAROL.name}`) });
});

it("refuses a standalone apply from another repository, naming the managing one, and takes over only when told", async () => {
  other = await createPolicyRepo("berth-other-policies-", CAROL);
  // dev-team and alice exist already (the Harbor calls above made them): this repository takes them over too.
  await editFile(other, "projects.yaml", (text) => `${text}controller:\n  adopt: true\n`);
  await commitAll(other, CAROL, "Adopt what exists");
  const refused = await cli(["apply", "--repo", other]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`refused: this registry is managed by ${realpathSync(own)} (branch main); apply from there, or pass --take-over`);
  expect((await admin.fetch("/api/v2.0/projects/platform")).status).toBe(404);
  const plan = await cli(["plan", "--repo", other]);
  expect(plan.stderr).toContain(`note: this registry is managed by ${realpathSync(own)} (branch main)`);

  const taken = await runCli("berth-controller", ["apply", "--repo", other, "--take-over"], controllerEnv(server.url));
  expect(taken.code).toBe(0);
  expect((await admin.fetch("/api/v2.0/projects/platform")).status).toBe(200);
  const audit = await json<{ resource_type: string; operation: string; operation_description: string; username: string }[]>("/api/v2.0/audit-logs?q=resource_type%3Dcontroller-source&page_size=10");
  expect(audit[0]).toMatchObject({ operation: "update", username: "admin", operation_description: `controller source taken over: ${realpathSync(own)} (branch main) -> ${realpathSync(other!)} (branch main)` });

  // The embedded controller now stands down: its next commit is refused, and the registry shows why.
  await editFile(own, "projects.yaml", (text) => text.replace("  - name: team-b\n", "  - name: team-c\n"));
  await commitAll(own, CAROL, "Rename team-b to team-c");
  await waitUntil(async () => (await cli(["status"])).stdout.includes("NOT READY"), "the embedded watcher to report the refusal", 60_000);
  const status = (await cli(["status"])).stdout;
  expect(status).toContain(`managed by:  ${realpathSync(other!)} (branch main)`);
  expect(status).toMatch(/NOT READY: [0-9a-f]{40}: refused: this registry is managed by .*berth-other-policies-/);
  expect((await admin.fetch("/api/v2.0/projects/team-c")).status).toBe(404);
  expect(server.output()).toMatch(/"level":50[^\n]*refused: this registry is managed by/);

  const history = (await cli(["history"])).stdout.trim().split("\n");
  expect(history[0]).toMatch(/SOURCE$/);
  expect(history.some((line) => line.endsWith(`${realpathSync(other!)} (branch main)`))).toBe(true);
  expect(history.some((line) => line.endsWith(`${realpathSync(own)} (branch main)`))).toBe(true);
  expect(await headOf(other)).toMatch(/^[0-9a-f]{40}$/);
});

describe("a repository of its own choosing", () => {
  let second: BerthProcess;
  let secondEnvironment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let repo: string;

  afterAll(async () => {
    await second?.kill("SIGKILL");
    await secondEnvironment?.cleanup();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it("follows a plain `git init` repository on master with no branch setting", async () => {
    repo = await createPolicyRepo("berth-master-policies-", CAROL, "master");
    secondEnvironment = await prepareEnvironment({ ...RECEIVERS_ON_LOOPBACK, BERTH_CONTROLLER_REPO: repo, ALICE_INITIAL_PASSWORD: "Alice-Initial-Passw0rd" });
    second = await spawnBerth(secondEnvironment.env);
    const client = new RegistryClient(second.url);
    await waitUntil(async () => (await client.fetch("/api/v2.0/projects/platform")).status === 200, "the master branch to be applied");
    const status = await runCli("berth-controller", ["status"], { ...controllerEnv(second.url), BERTH_REGISTRY_PASSWORD: ADMIN_PASSWORD });
    expect(status.stdout).toContain(`(branch master)`);
  });

  it("reports a branch that does not exist: /readyz 503, an error with the fix, and the same in status", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "berth-watch-work-"));
    const watch = spawnCli("berth-controller", ["watch"], {
      ...controllerEnv(second.url),
      BERTH_CONTROLLER_REPO: repo,
      BERTH_CONTROLLER_BRANCH: "nope",
      BERTH_CONTROLLER_ADDR: "127.0.0.1:0",
      BERTH_CONTROLLER_WORKDIR: path.join(work, "clone"),
      BERTH_CONTROLLER_POLL_SECONDS: "1",
    });
    let output = "";
    watch.child.stdout!.on("data", (chunk) => (output += chunk));
    try {
      await waitUntil(() => /health on (http:\/\/[\d.:]+)/.test(output), "the watcher to start");
      const health = /health on (http:\/\/[\d.:]+)/.exec(output)![1];
      const missing = 'branch "nope" does not exist in';
      await waitUntil(async () => ((await (await fetch(`${health}/readyz`)).json()) as { lastError: string | null }).lastError?.includes(missing) === true, "the missing branch to be reported");
      expect((await fetch(`${health}/readyz`)).status).toBe(503);
      expect(output).toMatch(/"level":"error"[^\n]*branch \\"nope\\" does not exist in [^\n]*\(it has master\): set BERTH_CONTROLLER_BRANCH to one of them, or unset it/);
      await waitUntil(async () => (await runCli("berth-controller", ["status"], controllerEnv(second.url))).stdout.includes(`NOT READY: ${missing}`), "status to show it");
    } finally {
      watch.child.kill("SIGKILL");
      await watch.exited;
      await rm(work, { recursive: true, force: true });
    }
  });
});
