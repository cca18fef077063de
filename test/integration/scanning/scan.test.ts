import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { ADMIN_CREDS, startBerth, type TestBerth } from "../../support/berth";
import { buildLayer, writeImage, writeIndex, type Layer } from "../../support/oci-image";
import { RegistryClient } from "../../support/registry-client";
import { copy, inspect, SkopeoError } from "../../support/skopeo";
import { describeWithTool } from "../../support/tools";
import { waitUntil } from "../../support/wait";
import { binariesOf, CVSS_HIGH as HIGH, CVSS_MEDIUM as MEDIUM, cveRecord as osvRecord, dpkgField } from "../../support/scanned-images";

const REPORT = "application/vnd.security.vulnerability.report; version=1.1";
const JSON_HEADERS = { "Content-Type": "application/json" };
const CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8

interface Summary {
  scan_status: string;
  severity: string;
  summary: { total: number; fixable: number; summary: Record<string, number> };
}

/**
 * Scanning end to end on a real server: an image built from this machine's own Debian package database and one of
 * this project's installed npm packages, pushed with skopeo into an auto_scan project, scanned in the background,
 * matched against OSV records written here for those very packages; then pulls refused and allowed by prevent_vul,
 * allowlists, and reports re-matched when the database changes without reading the layers again.
 */
describeWithTool("skopeo", "vulnerability scanning through the API and skopeo", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let work: string;
  let glibcVersion: string;
  /** libc6 and every other installed binary package of its source: each is a finding of a glibc record. */
  let glibcBinaries: number;
  let semverVersion: string;
  let base: Layer;
  let otherBase: Layer;
  let app: Layer;
  const registry = (repository: string) => `docker://${berth.host}/${repository}`;

  const importRecords = async (records: unknown[]) => {
    const response = await admin.fetch("/api/v2.0/vulndb/import?source=test", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(records) });
    expect(response.status).toBeLessThan(300);
  };
  const setMetadata = (metadata: Record<string, string>, extra: Record<string, unknown> = {}) =>
    admin.fetch("/api/v2.0/projects/sec", { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ metadata, ...extra }) });
  const artifact = async (repository: string, reference: string) => {
    const response = await admin.fetch(`/api/v2.0/projects/sec/repositories/${repository}/artifacts/${reference}?with_scan_overview=true`);
    expect(response.status).toBe(200);
    return (await response.json()) as { digest: string; scan_overview?: Record<string, Summary> };
  };
  const overviewOf = async (repository: string, reference: string) => (await artifact(repository, reference)).scan_overview?.[REPORT];
  const scanned = async (repository: string, reference: string, status = "Success") =>
    waitUntil(async () => (await overviewOf(repository, reference))?.scan_status === status, `${repository}:${reference} is scanned`);

  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    work = await mkdtemp(path.join(tmpdir(), "berth-scan-"));
    const status = await readFile("/var/lib/dpkg/status", "utf8");
    glibcVersion = dpkgField(status, "libc6", "Version")!;
    glibcBinaries = binariesOf(status, dpkgField(status, "libc6", "Source")?.split(" ")[0] ?? "libc6").length;
    const semverManifest = await readFile(path.join(__dirname, "../../../node_modules/semver/package.json"));
    semverVersion = (JSON.parse(semverManifest.toString()) as { version: string }).version;
    base = await buildLayer({ "etc/os-release": await readFile("/etc/os-release"), "var/lib/dpkg/status": status });
    // The same packages in another layer, so that images built on it are not the first image (digests are shared).
    otherBase = await buildLayer({ "etc/os-release": await readFile("/etc/os-release"), "var/lib/dpkg/status": status, "etc/hostname": "other\n" });
    app = await buildLayer({ "app/node_modules/semver/package.json": semverManifest });
    await admin.createProject("sec", { public: false });
    expect((await setMetadata({ auto_scan: "true" })).status).toBe(200);
    await importRecords([
      osvRecord("DEBIAN-CVE-2099-0001", "CVE-2099-0001", "Debian:12", dpkgField(status, "libc6", "Source") ?? "glibc", `${glibcVersion}+berth1`, HIGH),
      // Fixed below what is installed: not a finding.
      osvRecord("DEBIAN-CVE-2099-0009", "CVE-2099-0009", "Debian:12", "glibc", "0.1-1", CRITICAL),
      osvRecord("GHSA-berth-0002", "CVE-2099-0002", "npm", "semver", `${semverVersion.split(".")[0]}.999.0`, MEDIUM),
    ]);
  });
  afterAll(async () => {
    await berth?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("scans an image pushed into an auto_scan project and reports the OS and npm findings Harbor's way", async () => {
    const layout = path.join(work, "app");
    await writeImage(layout, { tag: "1", layers: [base, app] });
    await copy(`oci:${layout}:1`, `${registry("sec/app")}:1`, { destCreds: ADMIN_CREDS });
    await scanned("app", "1");
    expect(await overviewOf("app", "1")).toMatchObject({
      severity: "High",
      summary: { total: glibcBinaries + 1, fixable: glibcBinaries + 1, summary: { High: glibcBinaries, Medium: 1 } },
      complete_percent: 100,
      scanner: { name: "Berth" },
    });
    const additions = (await (await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/additions/vulnerabilities")).json()) as Record<
      string,
      { severity: string; vulnerabilities: Array<{ id: string; package: string; version: string; fix_version: string; severity: string }> }
    >;
    expect(additions[REPORT].severity).toBe("High");
    const findings = additions[REPORT].vulnerabilities;
    expect(findings).toHaveLength(glibcBinaries + 1);
    expect(findings).toContainEqual(
      expect.objectContaining({ id: "CVE-2099-0001", package: "libc6", version: glibcVersion, fix_version: `${glibcVersion}+berth1`, severity: "High" }),
    );
    // Most severe first.
    expect(findings[findings.length - 1]).toEqual(expect.objectContaining({ id: "CVE-2099-0002", package: "semver", version: semverVersion, severity: "Medium" }));

    // auto_scan queues images only: an artifact that is not one (an SBOM referrer) gets no scan. Pushes are queued in
    // order, so once an image pushed after it is scanned, its turn has passed.
    const referrer = await admin.pushReferrer("sec/app", await admin.pushImage("sec/app", "subject"), "application/vnd.example.sbom", "{}");
    const after = path.join(work, "after");
    await writeImage(after, { tag: "after", layers: [app] });
    await copy(`oci:${after}:after`, `${registry("sec/app")}:after`, { destCreds: ADMIN_CREDS });
    await scanned("app", "after");
    expect((await artifact("app", referrer)).scan_overview).toBeUndefined();
  });

  it("refuses pulls at or above the project's severity with 412 naming the severity and CVE, to skopeo too; HEAD still answers", async () => {
    expect((await setMetadata({ prevent_vul: "true", severity: "high" })).status).toBe(200);
    const refused = await admin.fetch("/v2/sec/app/manifests/1", { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(refused.status).toBe(412);
    const body = (await refused.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0]).toMatchObject({ code: "PROJECTPOLICYVIOLATION" });
    expect(body.errors[0].message).toMatch(/High vulnerability \(CVE-2099-0001\)/);
    expect((await admin.fetch("/v2/sec/app/manifests/1", { method: "HEAD" })).status).toBe(200);
    const pull = copy(`${registry("sec/app")}:1`, `oci:${path.join(work, "pulled")}:1`, { srcCreds: ADMIN_CREDS });
    await expect(pull).rejects.toThrow(SkopeoError);
    await expect(pull).rejects.toThrow(/CVE-2099-0001/);
  });

  it("lets the pull through below the threshold, and for CVEs on the project's allowlist", async () => {
    expect((await setMetadata({ severity: "critical" })).status).toBe(200);
    await copy(`${registry("sec/app")}:1`, `oci:${path.join(work, "pulled")}:1`, { srcCreds: ADMIN_CREDS });
    expect((await setMetadata({ severity: "high", reuse_sys_cve_allowlist: "false" }, { cve_allowlist: { items: [{ cve_id: "cve-2099-0001" }] } })).status).toBe(200);
    expect((await admin.fetch("/v2/sec/app/manifests/1")).status).toBe(200);
    const project = (await (await admin.fetch("/api/v2.0/projects/sec")).json()) as { cve_allowlist: { items: unknown[]; expires_at: number | null } };
    expect(project.cve_allowlist).toMatchObject({ items: [{ cve_id: "CVE-2099-0001" }], expires_at: null });
    // An expired allowlist no longer counts.
    expect((await setMetadata({}, { cve_allowlist: { items: [{ cve_id: "CVE-2099-0001" }], expires_at: 1 } })).status).toBe(200);
    expect((await admin.fetch("/v2/sec/app/manifests/1")).status).toBe(412);
    // Without a severity, any vulnerability refuses (Harbor reads a missing threshold as Unknown).
    expect((await admin.fetch("/api/v2.0/projects/sec/metadatas/severity", { method: "DELETE" })).status).toBe(200);
    expect((await setMetadata({ reuse_sys_cve_allowlist: "true" })).status).toBe(200);
    const strict = await admin.fetch("/v2/sec/app/manifests/1");
    expect(strict.status).toBe(412);
    expect(((await strict.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/refuses any vulnerability/);
    expect((await setMetadata({ prevent_vul: "false", severity: "high" })).status).toBe(200);
  });

  it("re-matches stored reports when the database changes, without reading any layer again", async () => {
    // The layer cache is read directly where the server's database is PostgreSQL (always under CI); PGlite lives
    // inside the server's process, so there only the re-match itself is checked.
    const db = berth.databaseUrl ? new Client({ connectionString: berth.databaseUrl }) : null;
    await db?.connect();
    try {
      const layers = async () => (await db?.query("SELECT digest, created_at FROM layer_inventories ORDER BY digest"))?.rows;
      const layersBefore = await layers();
      await importRecords([osvRecord("DEBIAN-CVE-2099-0003", "CVE-2099-0003", "Debian:12", "glibc", `${glibcVersion}+berth2`, CRITICAL)]);
      await waitUntil(async () => (await overviewOf("app", "1"))?.severity === "Critical", "the report is re-matched");
      expect((await overviewOf("app", "1"))?.summary).toMatchObject({ total: 2 * glibcBinaries + 1, summary: { Critical: glibcBinaries, High: glibcBinaries, Medium: 1 } });
      expect(await layers()).toEqual(layersBefore);

      // A change to packages the image does not hold moves its report to the new generation without rewriting it.
      const generatedAt = async () => ((await (await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/additions/vulnerabilities")).json()) as Record<string, { generated_at: string }>)[REPORT].generated_at;
      const before = await generatedAt();
      await importRecords([osvRecord("GHSA-berth-0004", "CVE-2099-0004", "npm", "left-pad", "9.9.9", MEDIUM)]);
      if (db) {
        const behind = async () =>
          Number((await db.query("SELECT count(*) AS n FROM scan_reports WHERE status = 'Success' AND scan_type = 'vulnerability' AND generation < (SELECT generation FROM vulndb_state)")).rows[0].n);
        await waitUntil(async () => (await behind()) === 0, "every report is at the new generation");
      }
      expect(await generatedAt()).toBe(before);
      // A change to a package it holds re-matches it.
      await importRecords([osvRecord("GHSA-berth-0005", "CVE-2099-0005", "npm", "semver", `${semverVersion.split(".")[0]}.999.1`, MEDIUM)]);
      await waitUntil(async () => (await overviewOf("app", "1"))?.summary.summary.Medium === 2, "the report is re-matched for semver");
      expect(await generatedAt()).not.toBe(before);
    } finally {
      await db?.end();
    }
  });

  it("refuses images never scanned under prevent_vul, scans on request, and sums an index up from its images", async () => {
    expect((await setMetadata({ auto_scan: "false", prevent_vul: "true", severity: "critical" })).status).toBe(200);
    const layout = path.join(work, "multi");
    await writeIndex(layout, {
      tag: "m",
      images: [
        { platform: { os: "linux", architecture: "amd64" }, layers: [otherBase, app] },
        { platform: { os: "linux", architecture: "arm64" }, layers: [app] },
      ],
    });
    await copy(`oci:${layout}:m`, `${registry("sec/multi")}:m`, { destCreds: ADMIN_CREDS, all: true });
    const index = await artifact("multi", "m");
    expect(index.scan_overview).toBeUndefined();
    const raw = JSON.parse((await inspect(`${registry("sec/multi")}:m`, { raw: true, creds: ADMIN_CREDS })).toString()) as { manifests: Array<{ digest: string }> };
    // The index itself passes (its images are checked when pulled); an image never scanned does not.
    const child = await admin.fetch(`/v2/sec/multi/manifests/${raw.manifests[0].digest}`);
    expect(child.status).toBe(412);
    expect(((await child.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/has not been scanned/);

    expect((await admin.fetch("/api/v2.0/projects/sec/repositories/multi/artifacts/m/scan", { method: "POST" })).status).toBe(202);
    await scanned("multi", "m");
    expect(await overviewOf("multi", "m")).toMatchObject({
      severity: "Critical",
      // Both images hold semver, with its two Medium records.
      summary: { total: 2 * glibcBinaries + 4, summary: { Critical: glibcBinaries, High: glibcBinaries, Medium: 4 } },
    });
    expect((await admin.fetch(`/v2/sec/multi/manifests/${raw.manifests[1].digest}`)).status).toBe(200);
    expect((await admin.fetch(`/v2/sec/multi/manifests/${raw.manifests[0].digest}`)).status).toBe(412);
    expect((await setMetadata({ prevent_vul: "false" })).status).toBe(200);
  });

  it("generates a CycloneDX SBOM as a referrer of the image, listed by the referrers API and readable with skopeo", async () => {
    const { digest } = await artifact("app", "1");
    const post = await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/scan", { method: "POST", headers: JSON_HEADERS, body: '{"scan_type":"sbom"}' });
    expect(post.status).toBe(202);
    const sbomOverview = async () =>
      ((await (await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1?with_sbom_overview=true")).json()) as { sbom_overview?: { scan_status: string; sbom_digest: string } })
        .sbom_overview;
    await waitUntil(async () => (await sbomOverview())?.scan_status === "Success", "the SBOM is generated");
    const { sbom_digest: sbomDigest } = (await sbomOverview())!;
    const referrers = (await (await admin.fetch(`/v2/sec/app/referrers/${digest}`)).json()) as { manifests: Array<{ digest: string; artifactType: string }> };
    expect(referrers.manifests).toContainEqual(expect.objectContaining({ digest: sbomDigest, artifactType: "application/vnd.cyclonedx+json" }));
    const manifest = JSON.parse((await inspect(`${registry("sec/app")}@${sbomDigest}`, { raw: true, creds: ADMIN_CREDS })).toString()) as {
      subject: { digest: string };
      layers: Array<{ digest: string; mediaType: string }>;
    };
    expect(manifest.subject.digest).toBe(digest);
    const bom = (await (await admin.fetch(`/v2/sec/app/blobs/${manifest.layers[0].digest}`)).json()) as {
      bomFormat: string;
      specVersion: string;
      components: Array<{ name: string; version?: string; purl?: string }>;
    };
    expect(bom).toMatchObject({ bomFormat: "CycloneDX", specVersion: "1.5" });
    expect(bom.components).toContainEqual(expect.objectContaining({ name: "libc6", version: glibcVersion, purl: expect.stringMatching(/^pkg:deb\/debian\/libc6@/) }));
    expect(bom.components).toContainEqual(expect.objectContaining({ name: "semver", purl: `pkg:npm/semver@${semverVersion}` }));
    // A second SBOM replaces the first.
    await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/scan", { method: "POST", headers: JSON_HEADERS, body: '{"scan_type":"sbom"}' });
    await waitUntil(async () => (await sbomOverview())?.sbom_digest !== sbomDigest && (await sbomOverview())?.scan_status === "Success", "the SBOM is generated again");
    const after = (await (await admin.fetch(`/v2/sec/app/referrers/${digest}`)).json()) as { manifests: Array<{ digest: string; artifactType: string }> };
    expect(after.manifests.filter((m) => m.artifactType === "application/vnd.cyclonedx+json")).toHaveLength(1);
  });

  it("answers clear errors for what cannot be scanned", async () => {
    const post = (reference: string, body?: string) =>
      admin.fetch(`/api/v2.0/projects/sec/repositories/app/artifacts/${reference}/scan`, body ? { method: "POST", headers: JSON_HEADERS, body } : { method: "POST" });
    expect((await post("nope")).status).toBe(404);
    const bogus = await post("1", '{"scan_type":"bogus"}');
    expect(bogus.status).toBe(400);
    expect(await bogus.json()).toEqual({ errors: [{ code: "BAD_REQUEST", message: 'scan_type must be "vulnerability" or "sbom", got "bogus"' }] });
    const subject = await admin.pushImage("sec/app", "plain");
    const referrer = await admin.pushReferrer("sec/app", subject, "application/vnd.example.sbom", "{}");
    const notImage = await post(referrer);
    expect(notImage.status).toBe(400);
    expect(((await notImage.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/not container images/);
    expect((await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/scan/stop", { method: "POST" })).status).toBe(400);
  });

  it("lists the embedded scanner as the default, for the system and for the project", async () => {
    const scanners = (await (await admin.fetch("/api/v2.0/scanners")).json()) as Array<{ uuid: string; is_default: boolean }>;
    expect(scanners).toEqual([expect.objectContaining({ uuid: "berth-embedded", is_default: true })]);
    expect(await (await admin.fetch("/api/v2.0/projects/sec/scanner")).json()).toMatchObject({ uuid: "berth-embedded" });
    const metadata = (await (await admin.fetch("/api/v2.0/scanners/berth-embedded/metadata")).json()) as { capabilities: Array<{ produces_mime_types: string[] }> };
    expect(metadata.capabilities[0].produces_mime_types).toEqual([REPORT]);
    expect((await admin.fetch("/api/v2.0/scanners/other")).status).toBe(404);
  });

  it("keeps the system CVE allowlist: anyone logged in reads it, system admins write it", async () => {
    const put = await admin.fetch("/api/v2.0/system/CVEAllowlist", { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ items: [{ cve_id: "CVE-2099-0001" }], expires_at: null }) });
    expect(put.status).toBe(200);
    expect(await (await admin.fetch("/api/v2.0/system/CVEAllowlist")).json()).toMatchObject({ project_id: 0, items: [{ cve_id: "CVE-2099-0001" }], expires_at: null });
    const bad = await admin.fetch("/api/v2.0/system/CVEAllowlist", { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ items: [{ cve: "x" }] }) });
    expect(bad.status).toBe(400);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/system/CVEAllowlist")).status).toBe(401);
  });
});
