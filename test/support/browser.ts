/**
 * Browser journeys against a real Berth: Debian's chromium driven by playwright-core (no browser download). Each
 * journey gets a fresh profile watched for console errors and uncaught exceptions (CSP violations included), which
 * the suite fails on; screenshots go to test-output/ui/.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const SHOTS = path.join(__dirname, "..", "..", "test-output", "ui");

/** Whether Debian's chromium is installed (journeys skip locally without it and fail under CI=true). */
export const hasChromium = (): boolean => existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // As root on a machine with a closed network: no sandbox, and none of Chromium's own background connections.
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh profile at 1280x800 in a fixed time zone, and the problems its pages report (console errors, exceptions). */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "Europe/Berlin" });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/** Signs in through the sign-in page and waits for the projects list. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/ui/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
}

/** Drops from `problems`, in place, the lines a journey expects (a refused request the browser logs itself). */
export function allowProblems(problems: string[], expected: string): void {
  for (let i = problems.length - 1; i >= 0; i--) if (problems[i].includes(expected)) problems.splice(i, 1);
}

/**
 * The frame of a journey file, for use inside its describe: chromium for the file, a fresh watched page per journey,
 * and no problems left after it. The fields are read in tests (they change per journey).
 */
export function browserJourneys(): { readonly browser: Browser } & WatchedPage {
  const current = {} as { browser: Browser } & WatchedPage;
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    current.browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await current.browser?.close();
  });
  watchEachJourney(() => current.browser, (watched) => Object.assign(current, watched));
  return current;
}

/**
 * Gives each test of the suite a fresh watched page (`use` receives it) and fails the test when the page reported
 * problems; call it in a describe block.
 */
export function watchEachJourney(browser: () => Browser, use: (watched: WatchedPage) => void): void {
  let watched: WatchedPage;
  beforeEach(async () => {
    watched = await watchedPage(browser());
    use(watched);
  });
  afterEach(async () => {
    await watched.context.close();
    expect(watched.problems).toEqual([]);
  });
}
