/**
 * `berth serve` with no controller settings reconciles the bundled example policies into itself (what `npm start`
 * shows a new user), and `berth-controller plan` against it then has nothing to do.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli } from "../support/cli";
import { controllerEnv, EXAMPLE_POLICIES } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";

const EXAMPLE = EXAMPLE_POLICIES;

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;

beforeAll(async () => {
  environment = await prepareEnvironment({});
  const { BERTH_CONTROLLER_REPO: _off, ...env } = environment.env;
  server = await spawnBerth({ ...env, ALICE_INITIAL_PASSWORD: "Alice-Initial-Passw0rd", BERTH_CONTROLLER_SCHEDULE: "*/2 * * * * *" });
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
});

it("applies the example policies on start, audited as the controller, and a plan afterwards is empty", async () => {
  const admin = new RegistryClient(server.url);
  await waitUntil(async () => {
    const members = (await (await admin.fetch("/api/v2.0/projects/platform/members")).json().catch(() => [])) as { entity_name: string }[];
    return Array.isArray(members) && members.some((m) => m.entity_name === "alice");
  }, "the example to be applied");
  const project = (await (await admin.fetch("/api/v2.0/projects/platform")).json()) as { metadata: { public: string } };
  expect(project.metadata.public).toBe("true");
  const records = (await (await admin.fetch("/api/v2.0/audit-logs?q=resource_type%3Dproject&page_size=100")).json()) as { username: string; resource: string; change_ref: string | null }[];
  expect(records.find((r) => r.resource === "dev-team")).toMatchObject({ username: "system:controller" });

  const plan = await runCli("berth-controller", ["plan", "--repo", EXAMPLE], controllerEnv(server.url));
  expect(plan.stdout).toBe("No changes: the registry matches the files.\n");
  expect(plan.code).toBe(0);
});

it("puts back alice's membership deleted by hand on the next scheduled run, naming the policies' commit", async () => {
  const admin = new RegistryClient(server.url);
  const alice = async () =>
    ((await (await admin.fetch("/api/v2.0/projects/dev-team/members?entityname=alice")).json()) as { id: number; entity_name: string }[]).find((m) => m.entity_name === "alice");
  await waitUntil(async () => (await alice()) !== undefined, "alice to be a member");
  expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${(await alice())!.id}`, { method: "DELETE" })).status).toBe(200);
  await waitUntil(async () => (await alice()) !== undefined, "the scheduled run to put alice back");

  // The bundled files, committed as they are in this checkout, are known by their commit; edited ones by content.
  const git = promisify(execFile);
  const dirty = (await git("git", ["-C", EXAMPLE, "status", "--porcelain", "--", "projects.yaml", "members.yaml"]).catch(() => ({ stdout: "x" }))).stdout.trim() !== "";
  const revision = dirty ? "content:" : `commit ${(await git("git", ["-C", EXAMPLE, "log", "-1", "--format=%H", "--", "."])).stdout.trim()}`;
  const records = (await (await admin.fetch("/api/v2.0/audit-logs?q=operation%3Dcreate&page_size=100")).json()) as { resource_type: string; username: string; change_ref: string | null }[];
  const recreated = records.find((r) => r.resource_type === "member" && r.change_ref?.startsWith(revision) && r.change_ref.includes("schedule"));
  expect(recreated).toMatchObject({ username: "system:controller" });
});
