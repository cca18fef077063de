/**
 * `berth-controller` declaring labels (issue 18): global labels under a top-level `labels:` and each project's under
 * its own; plan, apply, an empty plan after, an edited color applied, a label changed by hand put back, and one that
 * left the files deleted only when pruning is on.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let repo: string;

const AUTHOR = { name: "Lea Label", email: "lea@example.com" };
const PROJECTS = `labels:
  - name: release
    description: shipped to customers
    color: "#00AA00"
projects:
  - name: shop
    public: false
    labels:
      - name: qa-passed
        color: "#123456"
`;

const controller = (args: string[]): Promise<CliResult> => runCli("berth-controller", [...args, "--repo", repo], controllerEnv(server.url));
const commit = (message: string) => commitAll(repo, AUTHOR, message);
const edit = (change: (text: string) => string) => editFile(repo, "projects.yaml", change);

interface ApiLabel {
  id: number;
  name: string;
  description: string;
  color: string;
  scope: string;
  project_id: number;
}
const labels = async (query: string) => (await (await admin.fetch(`/api/v2.0/labels?${query}`)).json()) as ApiLabel[];
const shopId = async () => ((await (await admin.fetch("/api/v2.0/projects/shop")).json()) as { project_id: number }).project_id;

beforeAll(async () => {
  environment = await prepareEnvironment({});
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
  repo = await createPolicyRepo("berth-label-policies-", AUTHOR);
  await writeFile(path.join(repo, "projects.yaml"), PROJECTS);
  await writeFile(path.join(repo, "members.yaml"), "");
  await commit("Labels for the shop");
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("berth-controller and labels", () => {
  it("plans and applies global and project labels, then has nothing left to do", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^Plan: 3 to create, 0 to update, 0 to delete\.$/m);
    expect(plan.stdout).toContain("+ label release");
    expect(plan.stdout).toContain("+ label shop/qa-passed");
    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 3, failed 0, skipped 0\./);
    expect(await labels("scope=g")).toEqual([expect.objectContaining({ name: "release", description: "shipped to customers", color: "#00AA00", scope: "g" })]);
    expect(await labels(`scope=p&project_id=${await shopId()}`)).toEqual([expect.objectContaining({ name: "qa-passed", color: "#123456", scope: "p" })]);
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("applies an edited color, and puts back a label changed by hand", async () => {
    await edit((text) => text.replace('color: "#123456"', 'color: "#654321"'));
    await commit("QA is another color");
    const [release] = await labels("scope=g");
    expect((await admin.fetch(`/api/v2.0/labels/${release.id}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: '{"description":"by hand"}' })).status).toBe(200);
    const plan = await controller(["plan"]);
    expect(plan.stdout).toMatch(/^Plan: 0 to create, 2 to update, 0 to delete\.$/m);
    expect((await controller(["apply"])).code).toBe(0);
    expect((await labels("scope=g"))[0].description).toBe("shipped to customers");
    expect((await labels(`scope=p&project_id=${await shopId()}`))[0].color).toBe("#654321");
  });

  it("deletes a label that left the files only when pruning is on", async () => {
    await edit((text) => text.replace(/labels:\n {2}- name: release\n.*\n.*\n/, ""));
    await commit("No global labels");
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
    await edit((text) => `controller:\n  prune: true\n${text}`);
    await commit("Prune");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toMatch(/^Plan: 0 to create, 0 to update, 1 to delete\.$/m);
    expect((await controller(["apply"])).code).toBe(0);
    expect(await labels("scope=g")).toEqual([]);
    expect(await labels(`scope=p&project_id=${await shopId()}`)).toHaveLength(1);
  });
});
