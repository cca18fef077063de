/**
 * The project page's tabs in a real browser (members, robot accounts, tag immutability, webhooks, logs,
 * configuration), against a real Berth on PostgreSQL. Needs `npm run build` first (the UI is served from dist/ui).
 * Screenshots go to test-output/ui/ at 1280x800.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { ADMIN_AUTH, ADMIN_PASSWORD, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { CHROMIUM, hasChromium, launchChromium, SHOTS, signIn, watchEachJourney } from "../../support/browser";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { commitAll } from "../../support/policy-repo";
import { describeIf } from "../../support/tools";
import { ApiClient } from "../../../controller/api-client";
import { reconcile } from "../../../controller/apply/reconcile";
import { loadPolicy } from "../../../controller/policy/load";
import { sourceOfDirectory } from "../../../controller/watch/source";
import { waitUntil } from "../../support/wait";

const PASSWORD = "Browser-Passw0rd-1";
const PROJECT = "team";

describeIf(hasChromium(), `Debian's chromium at ${CHROMIUM}`, "the project page's tabs in chromium", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let browser: Browser;
  let page: Page;
  // A webhook receiver on 127.0.0.1 that answers 200 and counts what arrives.
  let receiver: Server;
  let received = 0;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    berth = await startBerth({ env: { ...RECEIVERS_ON_LOOPBACK } });
    admin = new RegistryClient(berth.url);
    await admin.createUser("erin", PASSWORD);
    await admin.createUser("gina", PASSWORD);
    await admin.createProject(PROJECT, { public: false });
    await admin.addMember(PROJECT, "gina", 3);
    receiver = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        received += 1;
        response.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await berth?.close();
  });

  watchEachJourney(() => browser, (watched) => (page = watched.page));

  /** Signs in and opens one tab of the project by its address. */
  async function openTab(username: string, password: string, tab: string) {
    await signIn(page, berth.url, username, password);
    await page.goto(`${berth.url}/ui/projects/${PROJECT}/${tab}`);
    await page.getByRole("heading", { name: PROJECT }).waitFor();
  }

  test("add a member: erin as developer, then guest; the list shows it after a reload", async () => {
    await openTab("admin", ADMIN_PASSWORD, "members");
    await page.getByRole("cell", { name: "gina", exact: true }).waitFor();
    await page.getByRole("button", { name: "+ User" }).click();
    const dialog = page.getByRole("dialog", { name: "New member" });
    await dialog.getByLabel("Name").fill("erin");
    await dialog.getByLabel("Role").selectOption({ label: "Developer" });
    await dialog.getByRole("button", { name: "OK" }).click();
    const role = page.getByLabel("Role of erin");
    await role.waitFor();
    expect(await role.inputValue()).toBe("2");
    await role.selectOption({ label: "Guest" });
    await waitUntil(async () => {
      const members = (await (await fetch(`${berth.url}/api/v2.0/projects/${PROJECT}/members?entityname=erin`, { headers: { Authorization: ADMIN_AUTH } })).json()) as { role_id: number }[];
      return members[0]?.role_id === 3;
    }, "erin is a guest");
    await page.reload();
    await page.getByLabel("Role of erin").waitFor();
    expect(await page.getByLabel("Role of erin").inputValue()).toBe("3");
    await page.screenshot({ path: path.join(SHOTS, "project-members.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, "project-members-phone.png"), fullPage: true });
  });

  test("create a robot with pull permission: its secret is shown once and works against /v2/", async () => {
    await openTab("admin", ADMIN_PASSWORD, "robot-accounts");
    await page.getByText("No robot accounts.").waitFor();
    await page.getByRole("button", { name: "New robot account" }).click();
    const dialog = page.getByRole("dialog", { name: "New robot account" });
    await dialog.getByLabel("Name", { exact: true }).fill("ci");
    await dialog.getByLabel("repository pull").check();
    await page.screenshot({ path: path.join(SHOTS, "project-robot-new.png") });
    await dialog.getByRole("button", { name: "Add" }).click();

    const shown = page.getByRole("dialog", { name: `Secret of robot$${PROJECT}+ci` });
    await shown.getByText("it will not be shown again").waitFor();
    const secret = await shown.getByLabel("Secret", { exact: true }).inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
    await page.getByRole("cell", { name: `robot$${PROJECT}+ci`, exact: true }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "project-robots.png") });
    const v2 = await fetch(`${berth.url}/v2/`, { headers: { Authorization: basicAuth(`robot$${PROJECT}+ci`, secret) } });
    expect(v2.status).toBe(200);

    await shown.getByRole("button", { name: "Close" }).click();
    await expect(shown.count()).resolves.toBe(0);
    // Gone from the page once closed, and never kept where scripts could read it later.
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate("[localStorage.length, sessionStorage.length]")).toEqual([0, 0]);

    // Disable, then refresh: a new secret, shown once again; the old one stops working.
    await page.getByRole("button", { name: `Disable robot$${PROJECT}+ci` }).click();
    await page.getByRole("button", { name: `Enable robot$${PROJECT}+ci` }).waitFor();
    await page.getByRole("button", { name: `Enable robot$${PROJECT}+ci` }).click();
    await page.getByRole("button", { name: `Refresh the secret of robot$${PROJECT}+ci` }).click();
    await page.getByRole("dialog", { name: "Refresh secret" }).getByRole("button", { name: "Refresh" }).click();
    const fresh = await shown.getByLabel("Secret", { exact: true }).inputValue();
    expect(fresh).not.toBe(secret);
    expect((await fetch(`${berth.url}/v2/`, { headers: { Authorization: basicAuth(`robot$${PROJECT}+ci`, fresh) } })).status).toBe(200);
  });

  test("an immutable rule is added, disabled and listed", async () => {
    await openTab("admin", ADMIN_PASSWORD, "tag-immutability");
    await page.getByText("No immutability rules.").waitFor();
    await page.getByRole("button", { name: "Add rule" }).click();
    const dialog = page.getByRole("dialog", { name: "Add tag immutability rule" });
    await dialog.getByLabel("Tags pattern").fill("release-*");
    await dialog.getByRole("button", { name: "Add" }).click();
    const row = page.getByRole("row", { name: /matching release-\*/ });
    await row.getByRole("cell", { name: "Enabled" }).waitFor();
    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByRole("cell", { name: "Disabled" }).waitFor();
    await expect(row.getByRole("cell", { name: "matching **" }).isVisible()).resolves.toBe(true);
  });

  test("a webhook policy is added and listed, and its deliveries and their attempts are shown", async () => {
    await openTab("admin", ADMIN_PASSWORD, "webhooks");
    await page.getByText("No webhooks.").waitFor();
    await page.getByRole("button", { name: "New webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "Add webhook" });
    await dialog.getByLabel("Name").fill("ci-hook");
    await dialog.getByLabel("PULL_ARTIFACT").uncheck();
    const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await dialog.getByLabel("Endpoint URL").fill(address);
    await dialog.getByLabel("Auth header").fill("Bearer hook-token");
    await page.screenshot({ path: path.join(SHOTS, "project-webhook-new.png") });
    await dialog.getByRole("button", { name: "Add" }).click();
    await page.getByRole("cell", { name: address }).waitFor();

    await admin.pushImage(`${PROJECT}/app`, "v1");
    await waitUntil(async () => {
      const executions = (await (await fetch(`${berth.url}/api/v2.0/projects/${PROJECT}/webhook/policies/1/executions`, { headers: { Authorization: ADMIN_AUTH } })).json()) as { status: string }[];
      return received > 0 && executions.some((e) => e.status === "Success");
    }, "the push was delivered");
    await page.getByRole("button", { name: "Deliveries of ci-hook" }).click();
    const deliveries = page.getByRole("region", { name: "Deliveries of ci-hook" });
    await deliveries.getByRole("cell", { name: "PUSH_ARTIFACT" }).waitFor();
    await deliveries.getByRole("button", { name: /^Attempts of delivery/ }).click();
    await deliveries.getByText(/Attempt 1: Success \(HTTP 200\)/).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "project-webhooks.png"), fullPage: true });

    // Edit keeps the stored auth header when the field is left empty, and says one is set.
    await page.getByRole("button", { name: "Edit ci-hook" }).click();
    const edit = page.getByRole("dialog", { name: "Edit webhook ci-hook" });
    await edit.getByText("One is set; leave empty to keep it.").waitFor();
    await edit.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Disable ci-hook" }).click();
    await page.getByRole("cell", { name: "Disabled" }).waitFor();
  });

  test("project logs list what happened, filtered by resource type", async () => {
    await openTab("admin", ADMIN_PASSWORD, "logs");
    await page.getByRole("cell", { name: "member" }).first().waitFor();
    await page.getByLabel("Filter by").selectOption({ label: "Resource type" });
    await page.getByLabel("Filter the logs").fill("robot");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("cell", { name: `robot$${PROJECT}+ci`, exact: true }).first().waitFor();
    await expect(page.getByRole("cell", { name: "member", exact: true }).count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "project-logs.png") });
  });

  test("configuration: scanning on push and the project's own CVE allowlist are saved", async () => {
    await openTab("admin", ADMIN_PASSWORD, "configuration");
    await page.getByLabel("Automatically scan images on push").check();
    await page.getByLabel("Project allowlist").check();
    await page.getByLabel("CVE IDs (one per line)").fill("CVE-2024-1234\nCVE-2023-9999");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").getByText("Saved.").waitFor();
    const project = (await (await fetch(`${berth.url}/api/v2.0/projects/${PROJECT}`, { headers: { Authorization: ADMIN_AUTH } })).json()) as {
      metadata: Record<string, string>;
      cve_allowlist: { items: { cve_id: string }[] };
    };
    expect(project.metadata).toMatchObject({ auto_scan: "true", reuse_sys_cve_allowlist: "false" });
    expect(project.cve_allowlist.items.map((item) => item.cve_id).sort()).toEqual(["CVE-2023-9999", "CVE-2024-1234"]);
    await page.reload();
    await expect(page.getByLabel("CVE IDs (one per line)").inputValue()).resolves.toContain("CVE-2024-1234");
    await expect(page.getByLabel("Automatically scan images on push").isChecked()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "project-configuration.png"), fullPage: true });
  });

  test("a guest sees the members and robots but no controls to change them, and not the admin-only tabs", async () => {
    await openTab("gina", PASSWORD, "members");
    await page.getByRole("cell", { name: "gina", exact: true }).waitFor();
    await page.getByRole("cell", { name: "Guest" }).first().waitFor();
    await expect(page.getByRole("button", { name: "+ User" }).count()).resolves.toBe(0);
    await expect(page.getByRole("button", { name: /^Remove/ }).count()).resolves.toBe(0);
    await expect(page.getByRole("combobox").count()).resolves.toBe(0);

    await page.getByRole("link", { name: "Robot Accounts" }).click();
    await page.getByRole("cell", { name: `robot$${PROJECT}+ci`, exact: true }).waitFor();
    await expect(page.getByRole("button", { name: "New robot account" }).count()).resolves.toBe(0);
    await expect(page.getByRole("button", { name: /^(Delete|Disable|Refresh)/ }).count()).resolves.toBe(0);

    const tabs = page.getByRole("navigation", { name: "Project sections" });
    for (const hidden of ["Logs", "Webhooks", "Tag Immutability"]) await expect(tabs.getByRole("link", { name: hidden }).count()).resolves.toBe(0);
    await tabs.getByRole("link", { name: "Configuration" }).click();
    await expect(page.getByRole("button", { name: "Save" }).count()).resolves.toBe(0);
    await expect(page.getByLabel("Public").isDisabled()).resolves.toBe(true);
  });

  /** Applies a policy repository declaring project "ops" once (a commit run, then a drift run), as the controller would. */
  async function applyPolicies(): Promise<void> {
    const repo = await mkdtemp(path.join(tmpdir(), "berth-ui-gitops-"));
    try {
      await writeFile(path.join(repo, "projects.yaml"), 'projects:\n  - name: ops\n    public: false\n    immutableTags:\n      - repositories: "**"\n        tags: "v*"\n');
      await writeFile(path.join(repo, "members.yaml"), "members:\n  ops:\n    - user: erin\n      role: developer\nrobots:\n  - name: deploy\n    project: ops\n    access: [pull]\n    duration: 30\n");
      execFileSync("git", ["-C", repo, "init", "-q", "-b", "main"]);
      const commit = await commitAll(repo, { name: "Alice Example", email: "alice@example.com" }, "Ops policies");
      for (const trigger of ["commit", "schedule"] as const) {
        const outcome = await reconcile({
          client: new ApiClient({ url: berth.url, username: "admin", password: ADMIN_PASSWORD }),
          policy: await loadPolicy(repo),
          user: "admin",
          trigger,
          commit,
          author: "Alice Example <alice@example.com>",
          runId: randomUUID(),
          source: await sourceOfDirectory(repo),
        });
        expect(trigger === "commit" ? ["success"] : ["success", "no-op"]).toContain(outcome.result);
      }
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  }

  // Last: the policies name only "ops", and nothing after this journey should depend on what the controller did.
  test("objects the GitOps controller manages carry the badge, and the project its warning", async () => {
    await applyPolicies();
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/projects/ops/members`);
    await page.getByRole("row", { name: /erin/ }).getByText("managed by policy (members.yaml)").waitFor();
    await expect(page.getByRole("row", { name: /admin/ }).getByText("managed by policy").count()).resolves.toBe(0);
    await page.getByRole("region", { name: "Members" }).getByRole("note").getByText("edit members.yaml in git instead").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "project-members-managed.png") });
    await page.getByRole("link", { name: "Robot Accounts" }).click();
    await page.getByRole("row", { name: /robot\$ops\+deploy/ }).getByText("managed by policy (members.yaml)").waitFor();
    await page.getByRole("link", { name: "Tag Immutability" }).click();
    await page.getByRole("region", { name: "Tag immutability" }).getByRole("note").getByText("edit projects.yaml in git instead").waitFor();
    await page.getByRole("link", { name: "Configuration" }).click();
    await page.getByRole("region", { name: "Configuration" }).getByRole("note").getByText("edit projects.yaml in git instead").waitFor();
  });
});
