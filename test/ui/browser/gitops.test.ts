/**
 * The GitOps page in a real browser: the built `berth-controller` applies a policy repository (a real git
 * repository in a temp dir) to a real Berth, a watcher (the controller's own loop, in this process) follows it and
 * corrects a change made by hand in a drift run, and the UI shows it all: the last commit with its author and time,
 * the runs, the watcher, the managed objects with their badge, and on the project page the warning that a change by
 * hand will be reverted. Needs `npm run build` first (dist/controller, dist/ui).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { ApiClient } from "../../../controller/api-client";
import { Watcher } from "../../../controller/watch/watcher";
import { GitSource } from "../../../controller/watch/source";
import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { browserJourneys, CHROMIUM, hasChromium, SHOTS, signIn } from "../../support/browser";
import { runCli } from "../../support/cli";
import { controllerEnv, createPolicyRepo, headOf } from "../../support/policy-repo";
import { RegistryClient } from "../../support/registry-client";
import { describeIf } from "../../support/tools";
import { waitUntil } from "../../support/wait";

const PASSWORD = "Browser-Passw0rd-1";
const ALICE = { name: "Alice Example", email: "alice@example.com" };

describeIf(hasChromium(), `Debian's chromium at ${CHROMIUM}`, "the GitOps page in chromium", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let repo: string;
  let workDir: string;
  let commit: string;
  let watcher: Watcher;
  const journey = browserJourneys();
  let page: Page;

  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    await admin.createUser("erin", PASSWORD);
    repo = await createPolicyRepo("berth-gitops-ui-", ALICE);
    commit = await headOf(repo);
    const apply = await runCli("berth-controller", ["apply", "--repo", repo], controllerEnv(berth.url));
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);

    // The controller's loop follows the repository: its first poll finds the commit applied (no changes).
    workDir = await mkdtemp(path.join(tmpdir(), "berth-gitops-ui-clone-"));
    const client = new ApiClient({ url: berth.url, username: "admin", password: ADMIN_PASSWORD });
    watcher = new Watcher({
      name: "ci-runner (berth-controller watch)",
      source: new GitSource(repo, undefined, path.join(workDir, "clone")),
      client,
      user: "admin",
      schedule: "0 0 1 1 *", // drift runs are asked for below, not waited for
      pollMs: 3_600_000,
      log: () => undefined,
    });
    await watcher.start();
    await waitUntil(async () => (await gitopsStatus()).watchers.length > 0, "the watcher has reported");

    // A change by hand, put back by a drift run.
    const made = await admin.fetch("/api/v2.0/projects/platform", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ metadata: { public: "false" } }),
    });
    expect(made.status).toBe(200);
    await watcher.reconcileNow();
  }, 120_000);
  afterAll(async () => {
    await watcher?.stop();
    await berth?.close();
    if (repo) await rm(repo, { recursive: true, force: true });
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    page = journey.page;
  });

  async function gitopsStatus(): Promise<{ watchers: unknown[]; last_drift_run: { applied: string[] } | null; drift_mode: string | null }> {
    return (await (await admin.fetch("/api/v2.0/gitops/status")).json()) as never;
  }

  test("see the controller's last commit after an apply", async () => {
    const status = await gitopsStatus();
    expect(status.drift_mode).toBe("correct");
    expect(status.last_drift_run?.applied).toEqual(["update project platform"]);

    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.getByRole("link", { name: "GitOps" }).click();
    await page.getByRole("heading", { name: "GitOps" }).waitFor();
    const facts = page.locator("dl.gitops-facts");
    await facts.getByText(commit.slice(0, 8), { exact: true }).waitFor();
    await expect(facts.getByText(/by Alice Example <alice@example\.com>, applied/).isVisible()).resolves.toBe(true);
    await expect(facts.getByText(/correct: drift runs revert changes made by hand/).isVisible()).resolves.toBe(true);
    // The branch the controller follows, and the repository without anything but its path.
    await expect(facts.getByText(repo, { exact: true }).count()).resolves.toBe(1);
    await expect(facts.getByText("main", { exact: true }).isVisible()).resolves.toBe(true);

    const runs = page.getByRole("table", { name: "Recent controller runs" });
    await expect(runs.getByRole("row").count()).resolves.toBe(4); // the header, the apply, the watcher's first poll, the drift run
    const applyRun = runs.getByRole("row", { name: /Manual apply/ });
    await expect(applyRun.getByText("Alice Example <alice@example.com>").isVisible()).resolves.toBe(true);
    await expect(applyRun.getByText("create project platform", { exact: true }).isVisible()).resolves.toBe(true);
    const driftRun = runs.getByRole("row", { name: /Drift run/ });
    await expect(driftRun.getByText("update project platform", { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole("table", { name: "Watchers" }).getByRole("row", { name: /ci-runner \(berth-controller watch\)/ }).isVisible()).resolves.toBe(true);

    const projects = page.getByRole("table", { name: "Managed Projects" });
    const platform = projects.getByRole("row", { name: /platform/ });
    await expect(platform.getByText("managed by policy (projects.yaml)").isVisible()).resolves.toBe(true);
    await expect(page.getByRole("table", { name: "Managed Members" }).getByRole("cell", { name: "dev-team/alice" }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "gitops.png") });
    await page.screenshot({ path: path.join(SHOTS, "gitops-full.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, "gitops-phone.png") });
    await page.setViewportSize({ width: 1280, height: 800 });

    await platform.getByRole("link", { name: "platform" }).click();
    await page.getByRole("heading", { name: "platform" }).waitFor();
    await page.getByRole("note").getByText("A change made here by hand will be reverted: edit projects.yaml in git instead.").waitFor();
    await expect(page.locator(".page-head").getByText("managed by policy (projects.yaml)").isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "project-managed.png") });

    await page.getByRole("link", { name: "Projects" }).first().click();
    await page.getByRole("link", { name: "dev-team" }).waitFor();
    for (const name of ["dev-team", "platform"]) {
      await expect(page.getByRole("row", { name: new RegExp(name) }).getByText("managed by policy (projects.yaml)").isVisible()).resolves.toBe(true);
    }
    await expect(page.getByRole("row", { name: /library/ }).getByText("managed by policy").count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "projects-managed.png") });
  });

  test("a suspended controller: the reason for admins, and no warning that changes will be reverted", async () => {
    const suspend = await runCli("berth-controller", ["suspend", "--reason", "registry migration until Friday"], controllerEnv(berth.url));
    expect(suspend.code).toBe(0);
    try {
      await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
      await page.goto(`${berth.url}/ui/gitops`);
      const facts = page.locator("dl.gitops-facts");
      await facts.getByText("Yes: registry migration until Friday").waitFor();
      await expect(facts.getByText("Nothing is corrected while the controller is suspended.").isVisible()).resolves.toBe(true);
      await page.goto(`${berth.url}/ui/projects/platform`);
      await page.locator(".page-head").getByText("managed by policy (projects.yaml)").waitFor();
      await expect(page.getByRole("note").count()).resolves.toBe(0);
    } finally {
      expect((await runCli("berth-controller", ["resume"], controllerEnv(berth.url))).code).toBe(0);
    }
  });

  test("a user who is no administrator gets an explanation, not an error", async () => {
    await signIn(page, berth.url, "erin", PASSWORD);
    await page.getByRole("link", { name: "GitOps" }).click();
    await page.getByRole("heading", { name: "GitOps" }).waitFor();
    await page.getByText("The controller's status is shown to system administrators only.", { exact: false }).waitFor();
    await expect(page.getByRole("alert").count()).resolves.toBe(0);
    await expect(page.getByRole("table").count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "gitops-user.png") });
  });
});
