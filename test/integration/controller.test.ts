/**
 * The built `berth-controller` against a Berth process, with the policy files in a real git repository: plan, apply,
 * an empty plan after, an edit commit applying exactly that change, a hand-made change put back, retention impact,
 * an injected 503 that costs nothing, and a broken file that blocks everything. It says no when it should: a --repo
 * that is no policy directory, secrets that cannot be read (warned about, and nothing that needs them is touched).
 */
import { realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import MarkdownIt from "markdown-it";
import { prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { startFlakyProxy } from "../support/flaky-proxy";
import { commitAll, controllerEnv, createPolicyRepo, editFile, headOf } from "../support/policy-repo";
import { basicAuth, RegistryClient } from "../support/registry-client";


let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let repo: string;

const ALICE = { name: "Alice Example", email: "alice@example.com" };

/** Runs the built controller on the test repository against `url` (the server unless told otherwise). */
function controller(args: string[], url = server.url, env: Record<string, string> = {}): Promise<CliResult> {
  return runCli("berth-controller", [...args, "--repo", repo], { ...controllerEnv(url), ...env });
}

/** The environment of a machine without the secrets the files refer to (a pull request's CI, say). */
const WITHOUT_SECRETS = { ALICE_INITIAL_PASSWORD: "" };

const commit = (message: string) => commitAll(repo, ALICE, message);
const edit = (file: string, change: (text: string) => string) => editFile(repo, file, change);

async function auditRefs(resource: string): Promise<{ operation: string; change_ref: string | null; resource: string }[]> {
  return (await (await admin.fetch(`/api/v2.0/audit-logs?q=${encodeURIComponent(`resource=~${resource}`)}&page_size=100`)).json()) as never;
}

beforeAll(async () => {
  environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
  repo = await createPolicyRepo("berth-policies-", ALICE);
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("berth-controller against a Berth process", () => {
  it("validates the example repository", async () => {
    const run = await controller(["validate"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("refuses a --repo that does not exist or holds no policy files, naming it", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "berth-no-policies-"));
    try {
      for (const command of ["validate", "plan", "apply"]) {
        for (const [dir, reason] of [
          [path.join(empty, "nonexistent"), "no such directory"],
          [empty, "neither projects.yaml nor members.yaml is there: not a policy repository"],
        ]) {
          const run = await runCli("berth-controller", [command, "--repo", dir], controllerEnv(server.url));
          expect({ command, code: run.code, stdout: run.stdout }).toEqual({ command, code: 1, stdout: "" });
          expect(run.stderr).toContain(`${dir}: ${reason}\n`);
        }
      }
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    expect(((await (await admin.fetch("/api/v2.0/controller/runs")).json()) as unknown[]).length).toBe(0);
  });

  it("validates without the secrets, warning where they are referred to", async () => {
    const run = await controller(["validate"], server.url, WITHOUT_SECRETS);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("members.yaml:5:5: warning: users.0.passwordFrom: the environment variable ALICE_INITIAL_PASSWORD is not set (creating user alice needs it)\n");
    expect(run.stdout).toMatch(/: valid \(2 project\(s\), 1 user\(s\), 3 member\(s\), 1 robot\(s\)\)\n$/);
  });

  it("plans creating a user whose password it cannot read as blocked, and the memberships that need the user", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"], server.url, WITHOUT_SECRETS);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^Plan: 8 to create, 0 to update, 0 to delete, 3 blocked\.$/m);
    expect(plan.stdout).toContain("! user alice (blocked: passwordFrom: the environment variable ALICE_INITIAL_PASSWORD is not set)\n");
    expect(plan.stdout).toContain("! member dev-team/alice (blocked: user alice is blocked)\n");
    expect(plan.stdout).toContain("! member platform/alice (blocked: user alice is blocked)\n");
    expect(plan.stdout).toContain("+ member dev-team/admin\n");
  });

  it("plans, applies, and then has nothing left to do", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^Plan: 11 to create, 0 to update, 0 to delete\.$/m);
    expect(plan.stdout).toContain("+ member dev-team/alice\n    role: \"developer\"");
    expect(plan.stdout).toContain("alice gains pull, push on dev-team");
    expect(plan.stdout).toContain("anyone gains pull on platform");

    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 11, failed 0, skipped 0\./);
    expect(apply.code).toBe(0);

    const again = await controller(["plan", "--detailed-exitcode"]);
    expect(again.stdout).toBe("No changes: the registry matches the files.\n");
    expect(again.code).toBe(0);
    // alice exists now: nothing reads her initial password any more, so its absence blocks nothing.
    const withoutSecrets = await controller(["plan", "--detailed-exitcode"], server.url, WITHOUT_SECRETS);
    expect(withoutSecrets.stdout).toBe("No changes: the registry matches the files.\n");
    expect(withoutSecrets.code).toBe(0);

    const project = (await (await admin.fetch("/api/v2.0/projects/dev-team")).json()) as { metadata: Record<string, string> };
    expect(project.metadata.public).toBe("false");
    expect(project.metadata.retention_id).toBeDefined();
  });

  it("applies exactly the change an edit commit makes, with the commit in the audit log", async () => {
    await edit("members.yaml", (text) => text.replace("    - user: alice\n      role: developer", "    - user: alice\n      role: maintainer"));
    await edit("projects.yaml", (text) => text.replace("  - name: platform\n    public: true", "  - name: platform\n    public: false"));
    const sha = await commit("Alice maintains dev-team; platform goes private");

    const plan = await controller(["plan", "--format", "json"]);
    const parsed = JSON.parse(plan.stdout) as { changes: { kind: string; key: string; action: string; fields: unknown[] }[]; access: unknown[] };
    expect(parsed.changes.map((c) => `${c.action} ${c.kind} ${c.key}`)).toEqual(["update project platform", "update member dev-team/alice"]);
    expect(parsed.access).toEqual([
      { who: "alice", project: "dev-team", gains: ["delete"], loses: [] },
      { who: "anyone", project: "platform", gains: [], loses: ["pull"] },
    ]);

    expect((await controller(["apply"])).code).toBe(0);
    const records = await auditRefs("dev-team");
    const memberUpdate = records.find((r) => r.operation === "update" && r.change_ref?.includes(sha));
    expect(memberUpdate?.change_ref).toMatch(new RegExp(`^commit ${sha} by Alice Example <alice@example\\.com> \\(run [0-9a-f-]{36}\\)$`));
  });

  it("puts back a membership deleted by hand, naming the commit", async () => {
    const members = (await (await admin.fetch("/api/v2.0/projects/dev-team/members?entityname=alice")).json()) as { id: number; entity_name: string }[];
    const alice = members.find((m) => m.entity_name === "alice")!;
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${alice.id}`, { method: "DELETE" })).status).toBe(200);

    const plan = await controller(["plan"]);
    expect(plan.stdout).toMatch(/^Plan: 1 to create, 0 to update, 0 to delete\.$/m);
    expect((await controller(["apply"])).code).toBe(0);
    const sha = await headOf(repo);
    const recreated = (await auditRefs("dev-team")).find((r) => r.operation === "create" && r.resource.startsWith("dev-team/user:") && r.change_ref?.includes(sha));
    expect(recreated).toBeDefined();
  });

  it("touches nothing that needs a secret it cannot read, and applies it whole once the secret is there", async () => {
    const secretFile = path.join(await mkdtemp(path.join(tmpdir(), "berth-secret-")), "deployer");
    const secrets = { bob: "Bob-Initial-Passw0rd", deployer: "Deployer-Secret-1a", drTwo: "dr-two-access-secret" };
    await edit("members.yaml", (text) =>
      text
        .replace("users:\n", "users:\n  - username: bob\n    email: bob@example.com\n    passwordFrom: env:BOB_INITIAL_PASSWORD\n")
        .replace("  dev-team:\n", "  dev-team:\n    - user: bob\n      role: developer\n")
        .replace("robots:\n", `robots:\n  - name: deployer\n    project: dev-team\n    access: [pull]\n    secretFrom: file:${secretFile}\n`),
    );
    await edit("projects.yaml", (text) =>
      text
        .replace("registries:\n", "registries:\n  - name: dr-two\n    url: http://127.0.0.1:5002\n    credentials:\n      accessKey: pusher\n      secretFrom: env:DR_TWO_SECRET\n")
        .replace("        trigger: { type: event_based }\n", "        trigger: { type: event_based }\n      - name: dev-team-to-dr-two\n        direction: push\n        registry: dr-two\n"),
    );
    await commit("Bob, a deployer robot and a second DR site, with secrets from the environment and a file");

    const blocked = await controller(["apply"]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain("! registry dr-two (blocked: secretFrom: the environment variable DR_TWO_SECRET is not set)\n");
    expect(blocked.stdout).toContain(`! robot dev-team+deployer (blocked: secretFrom: cannot read the file ${secretFile} (ENOENT))\n`);
    for (const line of [
      "skipped create registry dr-two: secretFrom: the environment variable DR_TWO_SECRET is not set",
      "skipped create user bob: passwordFrom: the environment variable BOB_INITIAL_PASSWORD is not set",
      "skipped create member dev-team/bob: user bob is blocked",
      `skipped create robot dev-team+deployer: secretFrom: cannot read the file ${secretFile} (ENOENT)`,
      "skipped create replication dev-team-to-dr-two: registry dr-two is blocked",
    ]) {
      expect(blocked.stdout).toContain(`${line}\n`);
    }
    expect(blocked.stdout).toMatch(/Applied 0, failed 0, skipped 5\./);
    // Nothing half-made: no user, no robot with a generated secret, no endpoint without its secret.
    expect(await (await admin.fetch("/api/v2.0/users/search?username=bob")).json()).toEqual([]);
    const robots = (await (await admin.fetch("/api/v2.0/robots?page_size=100")).json()) as { name: string }[];
    expect(robots.map((r) => r.name)).not.toContain("robot$dev-team+deployer");
    const registries = (await (await admin.fetch("/api/v2.0/registries")).json()) as { name: string }[];
    expect(registries.map((r) => r.name)).not.toContain("dr-two");

    await writeFile(secretFile, `${secrets.deployer}\n`);
    const applied = await controller(["apply"], server.url, { BOB_INITIAL_PASSWORD: secrets.bob, DR_TWO_SECRET: secrets.drTwo });
    expect(applied.stdout).toMatch(/Applied 5, failed 0, skipped 0\./);
    expect(applied.code).toBe(0);
    for (const output of [blocked, applied]) for (const value of Object.values(secrets)) expect(output.stdout + output.stderr).not.toContain(value);
    const login = (user: string, password: string) => new RegistryClient(server.url, basicAuth(user, password)).fetch("/v2/");
    expect((await login("bob", secrets.bob)).status).toBe(200);
    expect((await login("robot$dev-team+deployer", secrets.deployer)).status).toBe(200);
    expect((await controller(["plan", "--detailed-exitcode"], server.url, WITHOUT_SECRETS)).code).toBe(0);
    await rm(path.dirname(secretFile), { recursive: true, force: true });
  });

  it("reports a member whose user does not exist in the plan, and applies the rest", async () => {
    await edit("members.yaml", (text) => text.replace("  platform:\n", "  platform:\n    - user: ghost\n      role: guest\n"));
    await commit("Add a member who does not exist");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain("! member platform/ghost (blocked: user ghost does not exist (declare it under users: in members.yaml))");
    const apply = await controller(["apply"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain("skipped create member platform/ghost: user ghost does not exist");
    await edit("members.yaml", (text) => text.replace("    - user: ghost\n      role: guest\n", ""));
    await commit("Remove the ghost");
  });

  it("shows in the markdown plan which artifacts a retention change would delete", async () => {
    const pushed = [];
    for (const tag of ["v1", "v2", "v3"]) pushed.push(await admin.pushImage("dev-team/app", tag, `app-${tag}`));
    await edit("projects.yaml", (text) => text.replace("params: { latestPushedK: 10 }", "params: { latestPushedK: 1 }"));
    await commit("Keep one image per repository");
    const plan = await controller(["plan", "--format", "markdown"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^\*\*Plan: 0 to create, 1 to update, 0 to delete\.\*\*$/m);
    expect(plan.stdout).toContain("dev-team: the new rules would delete 2 artifact(s) now");
    expect(plan.stdout).toContain(`dev-team/app@${pushed[0].manifestDigest} (v1)`);
    expect(plan.stdout).toContain(`dev-team/app@${pushed[1].manifestDigest} (v2)`);
    expect(plan.stdout).not.toContain(pushed[2].manifestDigest);
    expect(plan.stdout).toContain("<details><summary>Changes</summary>");
    expect(plan.stdout).toContain("~ retention dev-team\n    retention.rules[0].params.latestPushedK: 10 → 1\n");
    const html = new MarkdownIt({ html: true }).render(plan.stdout);
    expect(html).toMatch(/^<h3>Berth plan for <code>[0-9a-f]{12}<\/code><\/h3>$/m);
    expect(html).toContain("<h4>Retention impact</h4>");
  });

  it("says in the plan's header when the files are uncommitted changes on top of HEAD", async () => {
    const head = (await headOf(repo)).slice(0, 12);
    await edit("projects.yaml", (text) => text.replace("params: { latestPushedK: 1 }", "params: { latestPushedK: 2 }"));
    try {
      const text = await controller(["plan"]);
      expect(text.stdout.split("\n").slice(0, 2)).toEqual([`From uncommitted changes on top of ${head} (the policy files differ from that commit)`, "Plan: 0 to create, 1 to update, 0 to delete."]);
      const markdown = await controller(["plan", "--format", "markdown"]);
      expect(markdown.stdout.split("\n")[0]).toBe(`### Berth plan for \`${head}\` + uncommitted changes`);
    } finally {
      await edit("projects.yaml", (text) => text.replace("params: { latestPushedK: 2 }", "params: { latestPushedK: 1 }"));
    }
    expect((await controller(["plan", "--format", "markdown"])).stdout.split("\n")[0]).toBe(`### Berth plan for \`${head}\``);
  });

  it("rides out injected 503s without deleting anything, and the retry converges", async () => {
    let failures = 0;
    const proxy = await startFlakyProxy(server.url, (request) => {
      if (failures < 3 && request.method === "GET" && request.url?.startsWith("/api/v2.0/projects/")) {
        failures += 1;
        return { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}' };
      }
      return null;
    });
    try {
      const apply = await controller(["apply"], proxy.url);
      expect(apply.code).toBe(0);
      expect(failures).toBe(3);
      expect(apply.stdout).not.toMatch(/^\s*applied delete/m);
      expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("adopts an object made by hand only when the files say so", async () => {
    await admin.createProject("handmade", { public: false });
    await edit("projects.yaml", (text) => `${text}  - name: handmade\n    public: true\n`);
    await commit("Declare the hand-made project");
    const blocked = await controller(["plan"]);
    expect(blocked.stdout).toContain("! project handmade (blocked: it exists but the controller did not create it; set controller.adopt: true in projects.yaml to take it over)");
    expect((await controller(["apply"])).code).toBe(1);
    expect(((await (await admin.fetch("/api/v2.0/projects/handmade")).json()) as { metadata: { public: string } }).metadata.public).toBe("false");

    await edit("projects.yaml", (text) => `controller:\n  adopt: true\n${text}`);
    await commit("Adopt what we declare");
    const adopt = await controller(["apply"]);
    expect(adopt.stdout).toContain("= project handmade\n    public: false → true");
    expect(adopt.code).toBe(0);
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("prunes managed objects that left the files only when pruning is on, and never everything", async () => {
    await edit("projects.yaml", (text) => text.replace("  - name: handmade\n    public: true\n", ""));
    await commit("Forget the hand-made project");
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0); // prune is off: nothing to do

    await edit("projects.yaml", (text) => text.replace("controller:\n  adopt: true\n", "controller:\n  adopt: true\n  prune: true\n"));
    await commit("Prune");
    const prune = await controller(["apply"]);
    expect(prune.stdout).toContain("- project handmade");
    expect(prune.code).toBe(0);
    expect((await admin.fetch("/api/v2.0/projects/handmade")).status).toBe(404);

    // Emptying the files with prune on would delete everything the controller manages: refused.
    const projects = await readFile(path.join(repo, "projects.yaml"), "utf8");
    const members = await readFile(path.join(repo, "members.yaml"), "utf8");
    await writeFile(path.join(repo, "projects.yaml"), "controller:\n  prune: true\n");
    await writeFile(path.join(repo, "members.yaml"), "");
    const refused = await controller(["apply"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: the plan would delete every object the controller manages \(\d+\)/);
    expect((await admin.fetch("/api/v2.0/projects/dev-team")).status).toBe(200);
    await writeFile(path.join(repo, "projects.yaml"), projects);
    await writeFile(path.join(repo, "members.yaml"), members);
  });

  it("keeps one controller applying at a time, and lists its runs", async () => {
    expect((await admin.fetch("/api/v2.0/controller/lock", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ holder: "other-controller", ttl_seconds: 60, source: { repo: realpathSync(repo), branch: "main" } }) })).status).toBe(200);
    const refused = await controller(["apply"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: another controller \(other-controller\) is applying until/);
    expect((await admin.fetch("/api/v2.0/controller/lock?holder=other-controller", { method: "DELETE" })).status).toBe(200);

    const history = await controller(["history", "--limit", "50"]);
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+FINISHED\s+TRIGGER\s+COMMIT\s+CHANGES\s+RESULT\s+SOURCE$/);
    expect(lines.slice(1).every((line) => /\smanual\s/.test(line) && line.endsWith(`${realpathSync(repo)} (branch main)`))).toBe(true);
    expect(lines.some((line) => /\ssuccess\s/.test(line))).toBe(true);
    expect(lines.some((line) => /\sfailed\s/.test(line))).toBe(true);
  });

  it("lists every membership in pages of up to 10 000 for the controller, the same ones as in pages of Harbor's size", async () => {
    type Row = { id: number; project: string; entity_name: string; role_id: number };
    const page = async (n: number, size: number) => {
      const response = await admin.fetch(`/api/v2.0/controller/members?page=${n}&page_size=${size}`);
      expect(response.status).toBe(200);
      return { rows: (await response.json()) as Row[], total: Number(response.headers.get("x-total-count")) };
    };
    const all = await page(1, 10_000);
    expect(all.rows.length).toBe(all.total);
    expect(all.rows.length).toBeGreaterThanOrEqual(3);
    expect(all.rows).toContainEqual(expect.objectContaining({ project: "dev-team", entity_name: "alice" }));
    expect(all.rows.map((r) => r.id)).toEqual([...all.rows.map((r) => r.id)].sort((a, b) => a - b));
    const paged: Row[] = [];
    for (let n = 1; n <= Math.ceil(all.total / 2); n++) paged.push(...(await page(n, 2)).rows);
    expect(paged).toEqual(all.rows);
    expect((await admin.fetch("/api/v2.0/controller/members?page_size=10001")).status).toBe(422);
  });

  it("refuses a broken file with file:line:col and applies nothing", async () => {
    await edit("projects.yaml", (text) => text.replace("  - name: platform\n    public: false", "  - name: platform\n    public: nope"));
    const apply = await controller(["apply"]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(/^projects\.yaml:\d+:\d+: projects\.1\.public: must be boolean$/m);
    expect(apply.stderr).toContain("nothing was applied");
    expect(apply.stdout).toBe("");
  });
});
