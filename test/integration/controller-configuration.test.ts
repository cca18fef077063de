/**
 * The built `berth-controller` managing the registry's run-time configuration from projects.yaml's `configuration:`
 * section: plan, apply, an empty plan after, a hand-made change planned back, and a key the registry fixes by its
 * environment reported as blocked.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";

const ALICE = { name: "Alice Example", email: "alice@example.com" };
let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let repo: string;

const controller = (args: string[]): Promise<CliResult> => runCli("berth-controller", [...args, "--repo", repo], controllerEnv(server.url));
const configuration = async () => (await (await admin.fetch("/api/v2.0/configurations")).json()) as Record<string, { value: unknown; editable: boolean }>;

beforeAll(async () => {
  environment = await prepareEnvironment({ BERTH_ROBOT_TOKEN_DURATION: "7" });
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
  repo = await createPolicyRepo("berth-configuration-", ALICE);
  await writeFile(path.join(repo, "members.yaml"), "");
  await writeFile(path.join(repo, "projects.yaml"), "configuration:\n  project_creation_restriction: adminonly\n  storage_per_project: 1GiB\n");
  await commitAll(repo, ALICE, "Only admins create projects, 1 GiB each by default");
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("berth-controller and the registry's configuration", () => {
  it("plans the declared keys, applies them, and then has nothing left to do", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect(plan.stdout).toMatch(/^Plan: 0 to create, 2 to update, 0 to delete\.$/m);
    expect(plan.stdout).toContain("~ configuration storage_per_project");
    expect(plan.code).toBe(2);
    const apply = await controller(["apply"]);
    // Applying claims the registry for the policy source, which by itself makes project creation adminonly (the
    // default while a source manages the registry): only storage_per_project is left to change.
    expect(apply.stdout).toMatch(/Applied 1, failed 0, skipped 0\./);
    expect(await configuration()).toMatchObject({ project_creation_restriction: { value: "adminonly" }, storage_per_project: { value: 1024 ** 3 } });
    const again = await controller(["plan", "--detailed-exitcode"]);
    expect(again.stdout).toBe("No changes: the registry matches the files.\n");
  });

  it("plans a change made by hand back to the files", async () => {
    await admin.fetch("/api/v2.0/configurations", { method: "PUT", headers: { "Content-Type": "application/json" }, body: '{"storage_per_project":-1}' });
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain("~ configuration storage_per_project");
    expect(plan.stdout).toMatch(/-1 → 1073741824/);
  });

  it("reports a key the registry fixes with its variable as blocked, naming the variable", async () => {
    await writeFile(path.join(repo, "projects.yaml"), "configuration:\n  project_creation_restriction: adminonly\n  storage_per_project: 1GiB\n  robot_token_duration: 30\n");
    await commitAll(repo, ALICE, "Robots live 30 days");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain("! configuration robot_token_duration (blocked: the registry fixes robot_token_duration with its BERTH_ROBOT_TOKEN_DURATION variable");
    expect((await configuration()).robot_token_duration).toEqual({ value: 7, editable: false });
  });
});
