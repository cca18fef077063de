import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_CREDS, startBerth, type TestBerth } from "../../support/berth";
import { writeImage } from "../../support/oci-image";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { hostFixture, parseCsv, type HostFixture } from "../../support/scanned-images";
import { copy } from "../../support/skopeo";
import { describeWithTool } from "../../support/tools";
import { waitUntil } from "../../support/wait";
import type { VulnerabilityItem } from "../../../registry/scanning/security-hub";

const JSON_HEADERS = { "Content-Type": "application/json" };
const PASSWORD = "Hub-Passw0rd";
/** A description a spreadsheet must not run, with the quotes, commas and line breaks CSV must survive. */
const EVIL_SUMMARY = '=HYPERLINK("http://evil.example/","x"), "quoted"\nsecond line';
const HARBOR_HEADER = ["Repository", "Artifact Digest", "Tags", "CVE", "Package", "Current Version", "Fixed in version", "Severity", "CWE Ids", "Additional Data", "Scanner"];

type Item = VulnerabilityItem;

/**
 * The security hub and CVE export on real scanned images: the host's dpkg status and this project's semver, pushed
 * with skopeo into two auto_scan projects and matched against OSV records written for them (test/support).
 */
describeWithTool("skopeo", "security hub and CVE export", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let developer: RegistryClient;
  let guest: RegistryClient;
  let outsider: RegistryClient;
  let fixture: HostFixture;
  let work: string;
  let hubId: number;
  let otherId: number;
  const registry = (repository: string) => `docker://${berth.host}/${repository}`;
  const json = async <T>(response: Response): Promise<T> => {
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  const summary = async (query = "") => json<Record<string, unknown>>(await admin.fetch(`/api/v2.0/security/summary${query}`));
  const list = async (q: string) => {
    const response = await admin.fetch(`/api/v2.0/security/vul?page_size=100&with_tag=true&q=${encodeURIComponent(q)}`);
    return { items: await json<Item[]>(response), total: Number(response.headers.get("x-total-count")) };
  };
  const exportCve = (client: RegistryClient, body: Record<string, unknown>) =>
    client.fetch("/api/v2.0/export/cve", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ job_name: "weekly", ...body }) });
  const finished = async (client: RegistryClient, id: number) => {
    let execution: Record<string, unknown> = {};
    await waitUntil(async () => {
      execution = await json(await client.fetch(`/api/v2.0/export/cve/execution/${id}`));
      return execution.status !== "Running";
    }, `export ${id} ends`);
    return execution;
  };

  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    work = await mkdtemp(path.join(tmpdir(), "berth-hub-"));
    fixture = await hostFixture({ semverSummary: EVIL_SUMMARY });
    for (const project of ["hub", "other"]) {
      await admin.createProject(project, { public: false });
      const put = await admin.fetch(`/api/v2.0/projects/${project}`, { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ metadata: { auto_scan: "true" } }) });
      expect(put.status).toBe(200);
    }
    const projectId = async (name: string) => (await json<{ project_id: number }>(await admin.fetch(`/api/v2.0/projects/${name}`))).project_id;
    hubId = await projectId("hub");
    otherId = await projectId("other");
    for (const [name, role] of [["developer", 2], ["guest", 3], ["outsider", 0]] as const) {
      await admin.createUser(name, PASSWORD);
      if (role) await admin.addMember("hub", name, role);
    }
    developer = new RegistryClient(berth.url, basicAuth("developer", PASSWORD));
    guest = new RegistryClient(berth.url, basicAuth("guest", PASSWORD));
    outsider = new RegistryClient(berth.url, basicAuth("outsider", PASSWORD));
    const imported = await admin.fetch("/api/v2.0/vulndb/import?source=test", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(fixture.records) });
    expect(imported.status).toBeLessThan(300);

    await writeImage(path.join(work, "app"), { tag: "1", layers: [fixture.base, fixture.app] });
    await writeImage(path.join(work, "os"), { tag: "1", layers: [fixture.base] });
    await copy(`oci:${path.join(work, "app")}:1`, `${registry("hub/app")}:1`, { destCreds: ADMIN_CREDS });
    await copy(`oci:${path.join(work, "app")}:1`, `${registry("hub/app")}:2`, { destCreds: ADMIN_CREDS });
    await copy(`oci:${path.join(work, "os")}:1`, `${registry("other/os")}:1`, { destCreds: ADMIN_CREDS });
    await waitUntil(async () => (await summary()).scanned_cnt === 2, "both artifacts are scanned", 60_000);
  });
  afterAll(async () => {
    await berth?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("sums the scanned artifacts' findings Harbor's way, with the top CVEs and artifacts when asked", async () => {
    const glibc = fixture.glibcBinaries;
    expect(await summary()).toEqual({
      total_artifact: 2,
      scanned_cnt: 2,
      total_vuls: 2 * glibc + 2,
      fixable_cnt: 2 * glibc + 2,
      critical_cnt: 0,
      high_cnt: 2 * glibc,
      medium_cnt: 1,
      low_cnt: 0,
      none_cnt: 0,
      unknown_cnt: 1,
    });
    const top = await summary("?with_dangerous_cve=true&with_dangerous_artifact=true");
    // The path the brief of this API named answers alike.
    expect(await json(await admin.fetch("/api/v2.0/vulnerabilities/summary?with_dangerous_cve=true&with_dangerous_artifact=true"))).toEqual(top);
    const cves = top.dangerous_cves as Array<Record<string, unknown>>;
    expect(cves.length).toBe(Math.min(5, glibc + 1));
    // Each (CVE, package, version) once, although two artifacts carry the glibc findings.
    expect(cves[0]).toEqual(expect.objectContaining({ cve_id: "CVE-2099-0001", severity: "High", cvss_score_v3: 7.5, version: fixture.glibcVersion }));
    expect(new Set(cves.map((cve) => cve.package)).size).toBe(cves.length);
    expect(top.dangerous_artifacts).toEqual([
      expect.objectContaining({ project_id: hubId, repository_name: "hub/app", critical_cnt: 0, high_cnt: glibc, medium_cnt: 1 }),
      expect.objectContaining({ project_id: otherId, repository_name: "other/os", critical_cnt: 0, high_cnt: glibc, medium_cnt: 0 }),
    ]);
  });

  it("lists findings with Harbor's fields, filtered through q and paged", async () => {
    const glibc = fixture.glibcBinaries;
    expect((await list("")).total).toBe(2 * glibc + 2);
    const semver = await list("cve_id=CVE-2099-0002");
    expect(semver.total).toBe(1);
    expect(semver.items[0]).toEqual({
      project_id: hubId,
      repository_name: "hub/app",
      digest: expect.stringMatching(/^sha256:/),
      tags: ["1", "2"],
      cve_id: "CVE-2099-0002",
      severity: "Medium",
      status: "fixed",
      cvss_v3_score: 4.8,
      package: "semver",
      version: fixture.semverVersion,
      fixed_version: `${fixture.semverVersion.split(".")[0]}.999.0`,
      desc: EVIL_SUMMARY,
      links: expect.any(Array),
    });
    expect((await list("cvss_score_v3=[7~8]")).total).toBe(2 * glibc);
    expect((await list("cvss_score_v3=[7~8],project_id=" + otherId)).total).toBe(glibc);
    expect((await list("severity=Medium")).total).toBe(1);
    expect((await list("package=libc6,repository_name=other/os")).items).toEqual([expect.objectContaining({ package: "libc6", repository_name: "other/os", tags: ["1"] })]);
    expect((await list("tag=2")).total).toBe(glibc + 2);
    expect((await list(`digest=${semver.items[0].digest}`)).total).toBe(glibc + 2);
    // Unscored findings come last.
    expect(await json(await admin.fetch(`/api/v2.0/security/vul?page=${2 * glibc + 2}&page_size=1`))).toEqual([expect.objectContaining({ cve_id: "CVE-2099-0003", severity: "Unknown", cvss_v3_score: null })]);
    expect((await list("repository_name=~other")).total).toBe(glibc);

    const paged = await admin.fetch("/api/v2.0/vulnerabilities?page=2&page_size=1&tune_count=true");
    const [second] = await json<Item[]>(paged);
    expect(second).not.toHaveProperty("tags");
    // Under 1000 findings tune_count still counts them.
    expect(paged.headers.get("x-total-count")).toBe(String(2 * glibc + 2));
    expect(paged.headers.get("link")).toContain('rel="prev"');
    expect((await admin.fetch("/api/v2.0/security/vul?page_size=101")).status).toBe(422);
    expect((await admin.fetch(`/api/v2.0/security/vul?q=${encodeURIComponent("cvss_score_v3=[high~8]")}`)).status).toBe(400);
    expect((await admin.fetch(`/api/v2.0/security/vul?q=${encodeURIComponent("project_id=hub")}`)).status).toBe(400);
    expect((await admin.fetch("/api/v2.0/security/summary?with_dangerous_cve=maybe")).status).toBe(400);
  });

  it("is for system admins only", async () => {
    for (const client of [developer, outsider]) {
      for (const route of ["/api/v2.0/security/summary", "/api/v2.0/security/vul", "/api/v2.0/vulnerabilities/summary", "/api/v2.0/vulnerabilities"]) {
        expect((await client.fetch(route)).status).toBe(403);
      }
    }
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/security/vul")).status).toBe(401);
  });

  it("exports a project's findings as Harbor's CSV, formulas made inert, to the one who asked", async () => {
    const created = await exportCve(developer, { projects: [hubId] });
    const { id } = await json<{ id: number }>(created);
    const execution = await finished(developer, id);
    expect(execution).toMatchObject({ id, status: "Success", user_name: "developer", file_present: true, trigger: "MANUAL" });
    expect((await json<{ items: Array<{ id: number }> }>(await developer.fetch("/api/v2.0/export/cve/executions"))).items.map((item) => item.id)).toContain(id);
    expect((await json<{ items: unknown[] }>(await outsider.fetch("/api/v2.0/export/cve/executions"))).items).toEqual([]);

    const download = await developer.fetch(`/api/v2.0/export/cve/download/${id}`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="weekly.csv"');
    const [header, ...rows] = parseCsv(await download.text());
    expect(header).toEqual(HARBOR_HEADER);
    expect(rows).toHaveLength(fixture.glibcBinaries + 2);
    expect(rows.every((row) => row.length === HARBOR_HEADER.length && row[0] === "hub/app" && row[2] === "1,2")).toBe(true);
    const semver = rows.find((row) => row[3] === "CVE-2099-0002")!;
    expect(semver.slice(4, 8)).toEqual(["semver", fixture.semverVersion, `${fixture.semverVersion.split(".")[0]}.999.0`, "Medium"]);
    const additional = JSON.parse(semver[9]) as { CVSS: { V3Score: number }; description: string };
    expect(additional).toMatchObject({ CVSS: { V3Score: 4.8 }, description: EVIL_SUMMARY });
    expect(semver[10]).toBe("Berth");
    // A cell a spreadsheet would run as a formula starts with a quote.
    expect(rows.find((row) => row[3] === "CVE-2099-0003")!.slice(4, 8)).toEqual(["'@evil/pkg", "1.0.0", "1.0.1", "Unknown"]);

    // Others may neither read nor download it; system admins may.
    expect((await outsider.fetch(`/api/v2.0/export/cve/execution/${id}`)).status).toBe(403);
    expect((await guest.fetch(`/api/v2.0/export/cve/download/${id}`)).status).toBe(403);
    expect((await admin.fetch(`/api/v2.0/export/cve/download/${id}`)).status).toBe(200);
    expect((await developer.fetch("/api/v2.0/export/cve/download/999999")).status).toBe(404);
  });

  it("filters exports by CVE, repository and tag, and refuses projects the caller may not export", async () => {
    const rowsOf = async (body: Record<string, unknown>) => {
      const { id } = await json<{ id: number }>(await exportCve(admin, body));
      expect(await finished(admin, id)).toMatchObject({ status: "Success" });
      return parseCsv(await (await admin.fetch(`/api/v2.0/export/cve/download/${id}`)).text()).slice(1);
    };
    expect(await rowsOf({ projects: [hubId, otherId], cveIds: "{CVE-2099-0002}" })).toEqual([expect.arrayContaining(["hub/app", "CVE-2099-0002"])]);
    expect(await rowsOf({ projects: [hubId, otherId], repositories: "{os}" })).toHaveLength(fixture.glibcBinaries);
    expect(await rowsOf({ projects: [hubId, otherId], tags: "2" })).toHaveLength(fixture.glibcBinaries + 2);
    expect(await rowsOf({ projects: [hubId, otherId], repositories: "**" })).toHaveLength(2 * fixture.glibcBinaries + 2);

    expect((await exportCve(guest, { projects: [hubId] })).status).toBe(403);
    expect((await exportCve(developer, { projects: [hubId, otherId] })).status).toBe(403);
    expect((await exportCve(developer, { projects: [] })).status).toBe(400);
    expect((await exportCve(developer, { projects: [hubId], labels: [1] })).status).toBe(400);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/export/cve/executions")).status).toBe(401);
  });

  it("counts only artifacts that still exist", async () => {
    expect((await admin.fetch("/api/v2.0/projects/other/repositories/os/artifacts/1", { method: "DELETE" })).status).toBe(200);
    expect(await summary()).toMatchObject({ total_artifact: 1, scanned_cnt: 1, total_vuls: fixture.glibcBinaries + 2 });
    expect((await list("")).total).toBe(fixture.glibcBinaries + 2);
  });
});
