/**
 * The web UI in a real browser: Debian's chromium driven by playwright-core (no browser download), against a real
 * Berth (on PostgreSQL with BERTH_TEST_DATABASE_URL). Needs `npm run build` first (the UI is served from dist/ui).
 * Screenshots of each main page go to test-output/ui/ at 1280x800, and one at phone width.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { allowProblems, CHROMIUM, hasChromium, launchChromium, SHOTS, watchEachJourney } from "../../support/browser";
import { RegistryClient } from "../../support/registry-client";
import { describeIf } from "../../support/tools";

const PASSWORD = "Browser-Passw0rd-1";

describeIf(hasChromium(), `Debian's chromium at ${CHROMIUM}`, "the web UI in chromium", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    berth = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: "adminonly" } });
    admin = new RegistryClient(berth.url);
    await admin.createUser("erin", PASSWORD);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await berth?.close();
  });

  // A fresh browser profile per journey, watched for console errors and uncaught exceptions (CSP violations included).
  watchEachJourney(() => browser, (watched) => ({ context, page, problems } = watched));

  /** Signs in with the keyboard only: the username field has focus, Tab moves to the password, Enter submits. */
  async function signInByKeyboard(username: string, password: string) {
    await page.goto(`${berth.url}/`);
    await page.getByRole("heading", { name: "Sign in to Berth" }).waitFor();
    await page.keyboard.type(username);
    await page.keyboard.press("Tab");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Projects" }).waitFor();
  }

  test("sign in, create a project, find it, open it, sign out: the old session is gone", async () => {
    await page.goto(`${berth.url}/`);
    await page.getByLabel("Username").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "sign-in.png") });
    await signInByKeyboard("admin", ADMIN_PASSWORD);
    expect(new URL(page.url()).pathname).toBe("/ui/projects");
    await expect(page.getByText("admin (administrator)").isVisible()).resolves.toBe(true);

    await page.getByRole("button", { name: "New project" }).click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Project name").fill("Bad Name");
    await dialog.getByRole("button", { name: "Create" }).click();
    // The API's own words, as it wrote them.
    await dialog.getByRole("alert").getByText("project name is not in lower case or contains illegal characters").waitFor();
    allowProblems(problems, "400 (Bad Request)");
    await dialog.getByLabel("Project name").fill("web-team");
    await dialog.getByLabel("Public (anyone may pull)").check();
    await dialog.getByRole("button", { name: "Create" }).click();
    await page.getByRole("link", { name: "web-team" }).waitFor();
    await admin.pushImage("web-team/frontend", "v1");

    await page.getByLabel("Search projects by name").fill("web");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/ui\/projects\?q=web$/);
    await page.getByText("1–1 of 1").waitFor();
    const row = page.getByRole("row", { name: /web-team/ });
    await expect(row.getByRole("cell", { name: "Public" }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole("link", { name: "library" }).count()).resolves.toBe(0);
    await page.getByRole("link", { name: "web-team" }).click();
    await page.getByRole("heading", { name: "web-team" }).waitFor();
    await page.getByRole("cell", { name: "web-team/frontend", exact: true }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "project-repositories.png") });
    await page.getByRole("link", { name: "Summary" }).click();
    await page.getByText("Storage").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "project-summary.png") });

    await page.getByRole("link", { name: "Projects" }).first().click();
    await page.getByRole("link", { name: "library" }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "projects.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, "projects-phone.png"), fullPage: true });

    const [cookie] = (await context.cookies()).filter((c) => c.name === "sid");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    await page.getByText("admin (administrator)").click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Berth" }).waitFor();
    expect((await context.cookies()).filter((c) => c.name === "sid")).toEqual([]);
    const stale = await fetch(`${berth.url}/api/v2.0/users/current`, { headers: { Cookie: `sid=${cookie.value}` } });
    expect(stale.status).toBe(401);
    // Nothing of the session is left where scripts could read it.
    // (A string: this file is compiled without the DOM's types; the browser runs it.)
    expect(await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")).toEqual([0, 0, ""]);
  });

  test("a user the registry does not let create projects is not offered it", async () => {
    await admin.createProject("erin-private", { public: false });
    await signInByKeyboard("erin", PASSWORD);
    await page.getByRole("link", { name: "library" }).waitFor();
    await expect(page.getByRole("button", { name: "New project" }).count()).resolves.toBe(0);
    await expect(page.getByRole("link", { name: "erin-private" }).count()).resolves.toBe(0);
    await expect(page.getByText("erin", { exact: true }).isVisible()).resolves.toBe(true);
  });

  test("a wrong password is answered with the API's message", async () => {
    await page.goto(`${berth.url}/ui/`);
    await page.getByLabel("Username").fill("erin");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("invalid username or password").waitFor();
    // The browser logs the refused request itself; that line is expected here and nothing else.
    allowProblems(problems, "401 (Unauthorized)");
  });
});
