/**
 * The repository and artifact pages in a real browser (issue 17): an image pushed with skopeo from an OCI layout
 * built here, found on its repository page with its tag, size and pull command; its artifact page with layers, build
 * history and a vulnerability report from the embedded scanner; an index with its platforms; tags added and deleted,
 * an artifact deleted; and a guest who is offered none of that and whose forged delete the server refuses.
 * Needs `npm run build` first (the UI is served from dist/ui).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { formatBytes } from "../../../ui/lib/format";
import { ADMIN_CREDS, ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { allowProblems, hasChromium, launchChromium, SHOTS, signIn, watchEachJourney } from "../../support/browser";
import { writeImage } from "../../support/oci-image";
import { RegistryClient } from "../../support/registry-client";
import { hostFixture, type HostFixture } from "../../support/scanned-images";
import { copy } from "../../support/skopeo";
import { findTool, describeIf } from "../../support/tools";

const PASSWORD = "Browser-Passw0rd-1";
const GUEST = 3;
const HISTORY = [
  { created: "2026-11-01T10:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:debian-base in /" },
  { created: "2026-11-01T10:01:00Z", created_by: "/bin/sh -c #(nop)  ENV NODE_ENV=production", empty_layer: true },
  { created: "2026-11-01T10:02:00Z", created_by: "/bin/sh -c npm install semver" },
];

describeIf(hasChromium() && findTool("skopeo") !== null, "Debian's chromium and skopeo", "the repository and artifact pages in chromium", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let work: string;
  let fixture: HostFixture;
  let imageDigest: string;

  /** The artifact list's row of the artifact tagged `tag`. */
  const rowTagged = (tag: string) => page.getByRole("row").filter({ has: page.getByText(tag, { exact: true }) });
  const repositoryUrl = () => `${berth.url}/ui/projects/shop/repositories/${encodeURIComponent("team/web")}`;
  const apiArtifact = (reference: string) => `/api/v2.0/projects/shop/repositories/${encodeURIComponent(encodeURIComponent("team/web"))}/artifacts/${reference}`;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    work = await mkdtemp(path.join(tmpdir(), "berth-ui-repo-"));
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    await admin.createUser("gus", PASSWORD);
    await admin.createProject("shop", { public: false });
    await admin.addMember("shop", "gus", GUEST);
    fixture = await hostFixture();
    const imported = await admin.fetch("/api/v2.0/vulndb/import?source=test", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(fixture.records),
    });
    expect(imported.status).toBeLessThan(300);
    const layout = path.join(work, "web");
    const image = await writeImage(layout, { tag: "1.0", layers: [fixture.base, fixture.app], history: HISTORY });
    imageDigest = image.manifestDigest;
    await copy(`oci:${layout}:1.0`, `docker://${berth.host}/shop/team/web:1.0`, { destCreds: ADMIN_CREDS });
    const amd64 = await admin.pushImage("shop/team/web", "amd64", "web-amd64");
    const arm64 = await admin.pushImage("shop/team/web", "arm64", "web-arm64");
    await admin.pushIndex("shop/team/web", "multi", [amd64, arm64]);
    const subject = { manifestDigest: imageDigest, manifestSize: image.descriptor.size, configDigest: image.configDigest, layerDigest: image.layerDigests[0] };
    await admin.pushReferrer("shop/team/web", subject, "application/vnd.example.sbom", "{}");
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await berth?.close();
    await rm(work, { recursive: true, force: true });
  });

  watchEachJourney(() => browser, (watched) => ({ context, page, problems } = watched));

  test("an image pushed with skopeo: its tag, size and pull command, layers, build history, and a scan's findings", async () => {
    const pushed = (await (await admin.fetch(apiArtifact("1.0"))).json()) as { size: number };
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(`${berth.url}/ui/projects/shop/repositories`);
    await page.getByRole("link", { name: "shop/team/web" }).click();
    await page.getByRole("heading", { name: "team/web" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/ui/projects/shop/repositories/team%2Fweb");

    const row = rowTagged("1.0");
    await row.getByRole("cell", { name: formatBytes(pushed.size), exact: true }).waitFor();
    const command = `docker pull ${berth.host}/shop/team/web:1.0`;
    await expect(row.getByRole("button", { name: `Copy the pull command ${command}` }).isVisible()).resolves.toBe(true);
    await expect(row.getByText("Not scanned").isVisible()).resolves.toBe(true);
    // The index with its platforms (its children are listed on its own page), and the image's SBOM referrer.
    await rowTagged("multi").getByText("linux/amd64, linux/arm64").waitFor();
    await row.getByRole("link", { name: "vnd.example.sbom" }).waitFor();
    await page.getByText("1–2 of 2").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "repository.png") });

    await row.getByRole("link", { name: imageDigest.slice(0, 19) }).click();
    await page.getByRole("heading", { name: imageDigest.slice(0, 19) }).waitFor();
    await page.getByText(command, { exact: true }).waitFor();
    const layers = page.getByRole("table", { name: "Layers" });
    await layers.getByRole("cell", { name: formatBytes(fixture.base.size), exact: true }).waitFor();
    await layers.getByRole("cell", { name: formatBytes(fixture.app.size), exact: true }).waitFor();
    await expect(page.getByText("linux/amd64").isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "artifact.png"), fullPage: true });

    await page.getByRole("link", { name: "Build History" }).click();
    await page.getByText("/bin/sh -c npm install semver").waitFor();
    await expect(page.getByRole("table", { name: "Build history" }).getByRole("row").count()).resolves.toBe(HISTORY.length + 1);

    await page.getByRole("link", { name: "Vulnerabilities" }).click();
    await page.getByText("Not scanned").waitFor();
    await page.getByRole("button", { name: "Scan" }).click();
    // Every binary package of glibc is a finding, semver one more, @evil/pkg (no score) the last.
    const total = fixture.glibcBinaries + 2;
    await page.getByText(`${total} total · ${total} fixable`).waitFor({ timeout: 60_000 });
    const findings = page.getByRole("table", { name: "Vulnerabilities" });
    await findings.getByRole("cell", { name: "CVE-2099-0001" }).first().waitFor();
    await page.getByLabel("Severity").selectOption("Medium");
    await page.getByText(`1 of ${total} vulnerabilities`).waitFor();
    const semver = findings.getByRole("row", { name: /CVE-2099-0002/ });
    await expect(semver.getByRole("cell", { name: "semver", exact: true }).isVisible()).resolves.toBe(true);
    await expect(semver.getByRole("cell", { name: "4.8" }).isVisible()).resolves.toBe(true);
    await page.getByLabel("Severity").selectOption("");
    await page.getByLabel("Fixable only").check();
    await page.getByText(`${total} of ${total} vulnerabilities`).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "artifact-vulnerabilities.png") });
  }, 120_000);

  test("an index shows its platforms and links to each child; tags are added and deleted, an artifact deleted after confirming", async () => {
    await signIn(page, berth.url, "admin", ADMIN_PASSWORD);
    await page.goto(repositoryUrl());
    const index = rowTagged("multi");
    await index.getByRole("link").first().click();
    const children = page.getByRole("table", { name: "Child manifests" });
    await children.getByRole("cell", { name: "linux/arm64" }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "artifact-index.png") });
    await children.getByRole("row", { name: /linux\/amd64/ }).getByRole("link").click();
    await page.getByRole("heading", { name: "Layers" }).waitFor();
    await expect(page.getByRole("link", { name: "Build History" }).isVisible()).resolves.toBe(true);

    await page.goto(repositoryUrl());
    const image = rowTagged("1.0");
    await image.getByRole("button", { name: /^Add a tag/ }).click();
    const dialog = page.getByRole("dialog", { name: "Add tag" });
    await dialog.getByLabel("Tag name").fill("multi");
    await dialog.getByRole("button", { name: "Add" }).click();
    // The API's own words: the tag is taken in the repository.
    await dialog.getByRole("alert").getByText("tag multi already exists in shop/team/web").waitFor();
    allowProblems(problems, "409 (Conflict)");
    await dialog.getByLabel("Tag name").fill("stable");
    await dialog.getByRole("button", { name: "Add" }).click();
    await image.getByText("stable").waitFor();
    await image.getByRole("button", { name: "Delete tag stable" }).click();
    await page.getByRole("dialog", { name: "Delete tag" }).getByRole("button", { name: "Delete" }).click();
    await expect(image.getByText("stable", { exact: true }).waitFor({ state: "detached" })).resolves.toBeUndefined();
    expect(((await (await admin.fetch(apiArtifact("1.0"))).json()) as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual(["1.0"]);

    const doomed = rowTagged("multi");
    await doomed.getByRole("button", { name: /^Delete sha256/ }).click();
    const confirm = page.getByRole("dialog", { name: "Delete artifact" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(doomed.isVisible()).resolves.toBe(true);
    await doomed.getByRole("button", { name: /^Delete sha256/ }).click();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await doomed.waitFor({ state: "detached" });
    await image.waitFor();
    expect((await admin.fetch(apiArtifact("multi"))).status).toBe(404);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, "repository-phone.png"), fullPage: true });
  }, 120_000);

  test("a guest is offered no delete, tag or scan action, and a forged delete is refused with 403", async () => {
    const login = page.waitForResponse((response) => response.url().endsWith("/c/login"));
    await signIn(page, berth.url, "gus", PASSWORD);
    const token = (await login).headers()["x-harbor-csrf-token"];
    expect(token).toBeTruthy();
    await page.goto(repositoryUrl());
    const image = rowTagged("1.0");
    await image.getByRole("link").first().waitFor();
    await expect(page.getByRole("button", { name: /^Delete/ }).count()).resolves.toBe(0);
    await expect(page.getByRole("button", { name: /^Add a tag/ }).count()).resolves.toBe(0);
    await expect(page.getByRole("columnheader", { name: "Actions" }).count()).resolves.toBe(0);
    await image.getByRole("link").first().click();
    await page.getByRole("heading", { name: "Layers" }).waitFor();
    await expect(page.getByRole("button", { name: "Add tag" }).count()).resolves.toBe(0);
    await page.getByRole("link", { name: "Vulnerabilities" }).click();
    await page.getByRole("table", { name: "Vulnerabilities" }).waitFor();
    await expect(page.getByRole("button", { name: "Scan" }).count()).resolves.toBe(0);

    // The page's own session, cookie and CSRF token included: the server still refuses what a guest may not do.
    const status = await page.evaluate(
      async ({ url, csrf }) => (await fetch(url, { method: "DELETE", headers: { "X-Harbor-CSRF-Token": csrf }, credentials: "same-origin" })).status,
      { url: apiArtifact(imageDigest), csrf: token },
    );
    expect(status).toBe(403);
    allowProblems(problems, "403 (Forbidden)");
    expect((await admin.fetch(apiArtifact(imageDigest))).status).toBe(200);
  }, 120_000);
});
