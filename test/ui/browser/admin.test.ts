/**
 * The retention tab and the administration pages in a real browser (Debian's chromium, playwright-core) against a
 * real Berth on PostgreSQL (BERTH_TEST_DATABASE_URL). Needs `npm run build` first (the UI is served from dist/ui).
 * Screenshots of each page go to test-output/ui/ at 1280x800.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ADMIN_PASSWORD, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { allowProblems, CHROMIUM, hasChromium, launchChromium, SHOTS, signIn, watchEachJourney } from "../../support/browser";
import { osvRecord } from "../../support/osv-records";
import { startReferenceRegistry, type ReferenceRegistry } from "../../support/reference-registry";
import { RegistryClient } from "../../support/registry-client";
import { describeIf, findTool, testIf } from "../../support/tools";
import { waitUntil } from "../../support/wait";

const PASSWORD = "Browser-Passw0rd-1";

/** Repeats `steps` (a refresh and a short look) until they pass: for states the server reaches in the background. */
const eventually = (steps: () => Promise<unknown>, what: string) => waitUntil(() => steps().then(() => true, () => false), what);

describeIf(hasChromium(), `Debian's chromium at ${CHROMIUM}`, "the retention tab and the administration pages in chromium", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let upstream: ReferenceRegistry | undefined;

  /** An /api call as admin that must answer `status`. */
  async function api(method: string, apiPath: string, body: unknown, status: number): Promise<Response> {
    const init = body === undefined ? { method } : { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await admin.fetch(apiPath, init);
    expect(`${method} ${apiPath} → ${response.status}`).toBe(`${method} ${apiPath} → ${status}`);
    return response;
  }

  /** Marks objects as the GitOps controller's, as its runs do (PATCH /controller/inventory). */
  async function manage(...items: { kind: string; key: string }[]): Promise<void> {
    const response = await admin.fetch("/api/v2.0/controller/inventory", { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ add: items }) });
    expect(response.ok).toBe(true);
  }

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    // Registry endpoints here point at a reference registry on 127.0.0.1.
    berth = await startBerth({ env: RECEIVERS_ON_LOOPBACK });
    admin = new RegistryClient(berth.url);
    await admin.createUser("erin", PASSWORD);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await upstream?.stop();
    await berth?.close();
  });

  watchEachJourney(() => browser, (watched) => ({ context, page, problems } = watched));

  test("run a retention dry run and read its decisions", async () => {
    await admin.createProject("shop", { public: false });
    for (const tag of ["v1", "v2", "v3"]) await admin.pushImage("shop/web", tag, `shop/web:${tag}`);
    await admin.pushImage("shop/api", "latest");
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/projects/shop/retention`);
    await page.getByText("No retention rule: every artifact is kept.").waitFor();

    await page.getByRole("button", { name: "Add rule" }).click();
    const dialog = page.getByRole("dialog", { name: "Add retention rule" });
    await dialog.getByLabel("Retain").selectOption({ label: "the most recently pushed # artifacts" });
    await dialog.getByLabel("Count").fill("1");
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.getByText("For the repositories matching **, retain the most recently pushed 1 artifacts with tags matching **, including untagged artifacts").waitFor();

    await page.getByRole("button", { name: "Dry run" }).click();
    // The page follows the run until it ends.
    await page.getByRole("cell", { name: "Success", exact: true }).waitFor();
    await expect(page.getByRole("row", { name: /Success/ }).getByRole("cell", { name: "Yes", exact: true }).count()).resolves.toBe(1);
    await page.getByRole("button", { name: /^Decisions of run/ }).click();

    const web = page.getByRole("region", { name: /^shop\/web/ });
    await web.getByRole("cell", { name: "v3", exact: true }).waitFor();
    await expect(web.getByRole("cell", { name: "RETAIN", exact: true }).count()).resolves.toBe(1);
    await expect(web.getByRole("cell", { name: "DEL (dry run)", exact: true }).count()).resolves.toBe(2);
    await expect(web.getByRole("row", { name: /v3/ }).getByText("retained by rule 1").count()).resolves.toBe(1);
    await expect(web.getByRole("row", { name: /v1/ }).getByText("DEL (dry run)").count()).resolves.toBe(1);
    await expect(web.getByText("not retained by any rule").count()).resolves.toBe(2);
    const apiRepo = page.getByRole("region", { name: /^shop\/api/ });
    await expect(apiRepo.getByRole("cell", { name: "RETAIN", exact: true }).count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(SHOTS, "project-retention.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, "project-retention-phone.png"), fullPage: true });
    // A dry run deletes nothing.
    expect(await admin.digestOf("shop/web", "v1")).not.toBeNull();

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("Schedule", { exact: true }).selectOption("Daily");
    await page.getByRole("button", { name: "Save schedule" }).click();
    await page.getByText("Current schedule: Daily (0 0 0 * * *).").waitFor();
  }, 120_000);

  test("a developer reads the retention rules and runs, and is offered no change", async () => {
    await admin.addMember("shop", "erin", 2);
    await manage({ kind: "retention", key: "shop" });
    await signIn(page, berth.url, "erin", PASSWORD);
    await page.goto(`${berth.url}/ui/projects/shop/retention`);
    await page.getByText("managed by policy (projects.yaml)").waitFor();
    await page.getByText("Schedule: Daily (0 0 0 * * *)").waitFor();
    await page.getByText(/^For the repositories matching \*\*, retain the most recently pushed 1 artifacts/).waitFor();
    for (const name of ["Add rule", "Dry run", "Run now", "Edit rule 1", "Delete rule 1", "Save schedule"]) {
      await expect(page.getByRole("button", { name }).count()).resolves.toBe(0);
    }
    await page.getByRole("button", { name: /^Decisions of run/ }).click();
    await page.getByRole("region", { name: /^shop\/web/ }).getByRole("cell", { name: "RETAIN", exact: true }).waitFor();
  }, 60_000);

  test("the users page creates a user and makes them an administrator", async () => {
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.getByRole("link", { name: "Administration" }).click();
    await page.getByRole("heading", { name: "Users" }).waitFor();
    await page.getByRole("button", { name: "New user" }).click();
    const dialog = page.getByRole("dialog", { name: "New user" });
    await dialog.getByLabel("Username").fill("hank");
    await dialog.getByLabel("Email").fill("hank@example.com");
    await dialog.getByLabel("First and last name").fill("Hank Hill");
    await dialog.getByLabel("Password", { exact: true }).fill("short");
    await dialog.getByLabel("Confirm password").fill("short");
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.getByRole("alert").getByText("password must be 8 to 128 characters long").waitFor();
    allowProblems(problems, "400 (Bad Request)");
    await dialog.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await dialog.getByLabel("Confirm password").fill(PASSWORD);
    await dialog.getByRole("button", { name: "Create" }).click();
    const row = page.getByRole("row", { name: /hank/ });
    await row.getByRole("cell", { name: "hank@example.com" }).waitFor();
    await row.getByRole("button", { name: "Set hank as admin" }).click();
    await page.getByRole("dialog", { name: "Set as administrator" }).getByRole("button", { name: "Set as admin" }).click();
    await row.getByRole("button", { name: "Revoke admin from hank" }).waitFor();
    await expect(row.getByRole("cell", { name: "Yes", exact: true }).count()).resolves.toBe(1);
    await manage({ kind: "user", key: "hank" });
    await page.reload();
    await row.getByText("managed by policy (members.yaml)").waitFor();
    await expect(page.getByText("managed by policy (members.yaml)").count()).resolves.toBe(1);
    // The built-in admin and oneself are offered nothing to break.
    await expect(page.getByRole("button", { name: "Delete admin" }).count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "admin-users.png") });
  }, 60_000);

  test("filter the audit log", async () => {
    await admin.createUser("gina", PASSWORD);
    const [gina] = (await (await api("GET", "/api/v2.0/users?q=username%3Dgina", undefined, 200)).json()) as { user_id: number }[];
    await api("DELETE", `/api/v2.0/users/${gina.user_id}`, undefined, 200);
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/admin/audit-log`);
    await page.getByRole("cell", { name: "create", exact: true }).first().waitFor();

    await page.getByLabel("Operation").selectOption("delete");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/operation=delete/);
    await page.getByRole("cell", { name: "gina", exact: true }).waitFor();
    await expect(page.getByRole("cell", { name: "create", exact: true }).count()).resolves.toBe(0);
    const operations = await page.locator("tbody tr td:nth-child(4)").allTextContents();
    expect(operations.length).toBeGreaterThan(0);
    expect(new Set(operations)).toEqual(new Set(["delete"]));

    await page.getByLabel("Operation").selectOption("");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Resource type").selectOption("user");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/resource_type=user/);
    await page.getByRole("cell", { name: "erin", exact: true }).first().waitFor();
    const types = await page.locator("tbody tr td:nth-child(3)").allTextContents();
    expect(new Set(types)).toEqual(new Set(["user"]));
    await page.screenshot({ path: path.join(SHOTS, "admin-audit-log.png") });

    await page.getByLabel("Username").fill("nobody-at-all");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No record matches these filters.").waitFor();
    // A time range in the past holds nothing either.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("From").fill("2001-01-01T00:00");
    await page.getByLabel("To").fill("2001-12-31T00:00");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No record matches these filters.").waitFor();
  }, 60_000);

  testIf(findTool("docker-registry") !== null, "docker-registry (the reference registry) is installed")("registries and replication", async () => {
    upstream = await startReferenceRegistry();
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/admin/registries`);
    await page.getByRole("button", { name: "New endpoint" }).click();
    const dialog = page.getByRole("dialog", { name: "New registry endpoint" });
    await dialog.getByLabel("Name").fill("mirror");
    await dialog.getByLabel("Endpoint URL").fill(upstream.url);
    await dialog.getByRole("button", { name: "Test connection" }).click();
    await dialog.getByText("Connection tested successfully.").waitFor();
    await dialog.getByRole("button", { name: "OK" }).click();
    await page.getByRole("cell", { name: "mirror", exact: true }).waitFor();
    // Health is checked after the save: refresh until it is known.
    await eventually(async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByRole("cell", { name: "healthy", exact: true }).waitFor({ timeout: 1000 });
    }, "the endpoint is healthy");
    await page.screenshot({ path: path.join(SHOTS, "admin-registries.png") });

    const registries = (await (await admin.fetch("/api/v2.0/registries")).json()) as { id: number; name: string }[];
    const mirror = registries.find((r) => r.name === "mirror")!;
    await api("POST", "/api/v2.0/replication/policies", { name: "shop-to-mirror", dest_registry: { id: mirror.id }, dest_namespace: "copies", trigger: { type: "manual" }, filters: [{ type: "name", value: "shop/web" }] }, 201);
    await page.getByRole("link", { name: "Replications" }).click();
    await page.getByRole("button", { name: "Replicate shop-to-mirror" }).click();
    await eventually(async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByRole("cell", { name: "Succeed", exact: true }).waitFor({ timeout: 1000 });
    }, "the replication succeeded");
    await page.getByRole("button", { name: /^Tasks of execution/ }).click();
    await page.getByRole("cell", { name: /copies\/web/ }).first().waitFor();
    await page.getByRole("button", { name: /^Log of task/ }).first().click();
    await page.getByRole("dialog", { name: /^Log of task/ }).getByRole("button", { name: "Close" }).click();
    await page.screenshot({ path: path.join(SHOTS, "admin-replication.png"), fullPage: true });
  }, 120_000);

  test("garbage collection, scanners and settings", async () => {
    const records = [osvRecord("DSA-5001-1", "Debian:12", "openssl", "3.0.11-1"), osvRecord("GHSA-aaaa-bbbb-cccc", "npm", "lodash", "4.17.21")];
    await api("POST", "/api/v2.0/vulndb/import?source=osv-sample", records, 201);
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/admin/gc`);
    await page.getByRole("button", { name: "Dry run" }).click();
    await eventually(async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByRole("cell", { name: "Success", exact: true }).waitFor({ timeout: 1000 });
    }, "the GC dry run succeeded");
    await page.getByLabel("Schedule to GC").selectOption("Daily");
    await page.getByRole("button", { name: "Save schedule" }).click();
    await page.getByText("Current schedule: Daily (0 0 0 * * *)").waitFor();
    await page.getByRole("button", { name: /^Log of GC/ }).first().click();
    const log = page.getByRole("dialog", { name: /^Log of GC/ });
    await expect(log.locator("pre").textContent()).resolves.not.toBe("");
    await log.getByRole("button", { name: "Close" }).click();
    await page.screenshot({ path: path.join(SHOTS, "admin-gc.png") });

    await page.getByRole("link", { name: "Scanners" }).click();
    await page.getByRole("heading", { name: "Vulnerability database" }).waitFor();
    await page.getByText("Default", { exact: true }).waitFor();
    await page.getByRole("cell", { name: "osv-sample" }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "admin-scanners.png") });

    await page.getByRole("link", { name: "Configuration" }).click();
    await page.getByText("Project creation restriction").waitFor();
    await page.getByLabel("CVE ids (one per line)").fill("CVE-2024-0001\nghsa-xxxx-yyyy-zzzz");
    await page.getByRole("button", { name: "Save allowlist" }).click();
    await page.getByText("2 id(s); never expires.").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "admin-settings.png") });
  }, 120_000);

  test("a user who is not a system admin sees no administration, and its pages refuse them", async () => {
    await signIn(page, berth.url, "erin", PASSWORD);
    await expect(page.getByRole("link", { name: "Administration" }).count()).resolves.toBe(0);
    for (const section of ["users", "audit-log", "settings"]) {
      await page.goto(`${berth.url}/ui/admin/${section}`);
      await page.getByRole("alert").getByText("Only system administrators may use the administration pages.").waitFor();
    }
    const refused = await fetch(`${berth.url}/api/v2.0/users`, { headers: { Authorization: `Basic ${Buffer.from(`erin:${PASSWORD}`).toString("base64")}` } });
    expect(refused.status).toBe(403);
  }, 60_000);
});
