import { migrate } from "../../registry/db/migrate";
import type { Sql } from "../../registry/db/sql";
import { EmbeddedScanner } from "../../registry/scanning/embedded-scanner";
import type { Inventory, Package } from "../../registry/scanning/inventory";
import type { VulnerabilityReport } from "../../registry/scanning/report/harbor";
import { EMBEDDED_SCANNER_INFO, EMBEDDED_SCANNER_UUID, ScanService, type ScanServiceOptions } from "../../registry/scanning/scan-service";
import { JudgementsGoneError, ScanStore, type StoredInventory } from "../../registry/scanning/scan-store";
import { summarize } from "../../registry/scanning/osv/match";
import { VulnDb } from "../../registry/scanning/vulndb/store";
import type { BlobStore } from "../../registry/storage/blob-store";
import { twoNodeSetups, type Nodes } from "../support/database";
import { osvRecord } from "../support/osv-records";

const npm = (name: string, version: string, at = "app"): Package => ({
  ecosystem: "npm",
  name,
  version,
  sourceName: name,
  sourceVersion: version,
  path: `${at}/node_modules/${name}/package.json`,
  purl: `pkg:npm/${name}@${version}`,
});
const image = (...packages: Package[]): StoredInventory => ({ osEcosystem: null, inventory: { distribution: null, packages } satisfies Inventory });
const digestOf = (n: number) => `sha256:${String(n).padStart(64, "0")}`;
const sorted = (report: VulnerabilityReport | null) =>
  (report?.vulnerabilities ?? []).map((item) => `${item.id} ${item.package}@${item.version} ${item.severity} fix=${item.fix_version}`).sort();

/**
 * Re-matching after an import against reports kept as packages and shared judgements: what a report reads back is
 * what matching it whole gives, one judgement serves every image holding a package version, and reports stored
 * whole by an earlier version are converted.
 */
describe.each(twoNodeSetups())("re-matching stored reports (%s)", (_name, open) => {
  let nodes: Nodes;
  let sql: Sql;
  let scans: ScanStore;
  let vulndb: VulnDb;
  let scanner: EmbeddedScanner;
  let service: ScanService;

  const images = [image(npm("lodash", "4.17.20"), npm("semver", "7.0.0")), image(npm("lodash", "4.17.20", "other")), image(npm("left-pad", "1.0.0"))];

  /** Scans image `n` as a worker would, from its inventory (no layers in this test). */
  async function scan(n: number): Promise<void> {
    await sql.query("INSERT INTO scan_reports (id, digest, repository, scanner, scan_type, status) VALUES ($1, $2, 'p/app', $3, 'vulnerability', 'Running')", [
      `r${n}`,
      digestOf(n),
      EMBEDDED_SCANNER_UUID,
    ]);
    const matched = await scanner.match(images[n], { repository: "p/app", digest: digestOf(n), mime_type: "application/vnd.oci.image.manifest.v1+json" });
    expect(await scans.succeedMatched(`r${n}`, matched)).toBe(true);
  }
  const report = async (n: number) => (await scans.result(digestOf(n), EMBEDDED_SCANNER_UUID, "vulnerability"))?.report as VulnerabilityReport | null;
  const fresh = async (n: number) => scanner.report(await scanner.match(images[n], { repository: "p/app", digest: digestOf(n), mime_type: "" }));
  const row = async (n: number) =>
    (await sql.query<{ generation: string; summary: { total: number; severity: string }; generated_at: string }>(
      "SELECT generation, summary, report->>'generated_at' AS generated_at FROM scan_reports WHERE id = $1",
      [`r${n}`],
    ))[0];

  beforeAll(async () => {
    nodes = await open();
    sql = nodes.a;
    await migrate(sql);
    scans = new ScanStore(sql);
    vulndb = new VulnDb(sql, { maxJsonBytes: 1024 * 1024 });
    // No layer is read here: the blob store is never asked.
    scanner = new EmbeddedScanner({ ...EMBEDDED_SCANNER_INFO }, {} as BlobStore, scans, vulndb);
    const options: ScanServiceOptions = { workers: 0, queueMax: 100, pollMs: 1000, rematchMs: 60_000, yieldMs: 0, onError: (error) => { throw error; } };
    // Re-matching uses the store and the scanner only; the rest serves requests and events.
    service = new ScanService({ scans, scanner, metadata: {} as never, projects: {} as never, allowlists: {} as never, events: {} as never }, options);
    // No workers: nothing is scanned in the background, re-matching runs when the test asks.
    service.start();
    await vulndb.importRecords("test", [osvRecord("GHSA-1", "npm", "lodash", "4.17.21")]);
    for (const n of [0, 1, 2]) await scan(n);
  });
  afterAll(async () => {
    await service.close();
    await nodes.cleanup();
  });

  it("reads back each report as matching it whole gives it, from one judgement per package version", async () => {
    for (const n of [0, 1, 2]) expect(sorted(await report(n))).toEqual(sorted(await fresh(n)));
    expect(sorted(await report(0))).toEqual(["CVE-2026-0001 lodash@4.17.20 Unknown fix=4.17.21"]);
    const judgements = await sql.query<{ key: string }>("SELECT key FROM scan_judgements ORDER BY key");
    expect(judgements.map((j) => JSON.parse(j.key)[2])).toEqual(["left-pad", "lodash", "semver"]);
    expect((await row(1)).summary).toMatchObject({ total: 1, severity: "Unknown" });
    // The counts the database keeps are those of the findings matching gives.
    for (const n of [0, 1, 2]) expect((await row(n)).summary).toEqual(summarize((await fresh(n)).vulnerabilities));
  });

  it("judges for a new image only the package versions no current judgement is stored for", async () => {
    const judged = await scanner.judgeImage(image(npm("lodash", "4.17.20", "third"), npm("ms", "2.0.0")), { repository: "p/app", digest: digestOf(9), mime_type: "" });
    expect([...judged.judgements.keys()].map((key) => JSON.parse(key)[2])).toEqual(["ms"]);
    expect(judged.packages.map((pkg) => pkg.name)).toEqual(["lodash", "ms"]);
  });

  it("after an import, judges each changed package version once and counts again only the reports holding it", async () => {
    const untouched = await row(2);
    const { generation } = await vulndb.importRecords("test", [
      osvRecord("GHSA-2", "npm", "lodash", "4.17.30", "2026-02-01T00:00:00Z", { severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }] }),
    ]);
    await service.rematch();
    for (const n of [0, 1, 2]) {
      expect(Number((await row(n)).generation)).toBe(generation);
      expect(sorted(await report(n))).toEqual(sorted(await fresh(n)));
    }
    expect((await row(0)).summary).toMatchObject({ total: 2, severity: "Critical" });
    expect((await row(1)).summary).toMatchObject({ total: 2, severity: "Critical" });
    for (const n of [0, 1, 2]) expect((await row(n)).summary).toEqual(summarize((await fresh(n)).vulnerabilities));
    // The image without lodash moved to the new generation untouched.
    expect((await row(2)).generated_at).toBe(untouched.generated_at);
    expect(await sql.query("SELECT count(*)::int AS n FROM scan_judgements WHERE generation < $1", [generation])).toEqual([{ n: 0 }]);
  });

  it("converts a report stored whole with its inventory, and drops judgements no report names", async () => {
    // A report as the previous version stored it: the whole report and the image's inventory.
    const whole = await fresh(2);
    await sql.query(
      "UPDATE scan_reports SET inventory = $2::jsonb, report = $3::jsonb, keys = NULL, generation = 1 WHERE id = $1",
      ["r2", JSON.stringify(images[2]), JSON.stringify(whole)],
    );
    await sql.query("DELETE FROM scan_packages WHERE report_id = 'r2'");
    await vulndb.importRecords("test", [osvRecord("GHSA-3", "npm", "left-pad", "1.0.1", "2026-03-01T00:00:00Z")]);
    await service.rematch();
    const converted = (await sql.query<{ inventory: unknown; keys: string[] }>("SELECT inventory, keys FROM scan_reports WHERE id = 'r2'"))[0];
    expect(converted.inventory).toBeNull();
    expect(converted.keys).toEqual(["npm\nleft-pad"]);
    expect(sorted(await report(2))).toEqual(["CVE-2026-0003 left-pad@1.0.0 Unknown fix=1.0.1"]);
    expect((await report(2))?.artifact).toEqual(whole.artifact);

    await sql.query("DELETE FROM scan_reports WHERE id = 'r0'");
    await service.rematch();
    const judged = await sql.query<{ key: string }>("SELECT key FROM scan_judgements ORDER BY key");
    expect(judged.map((j) => JSON.parse(j.key)[2])).toEqual(["left-pad", "lodash"]);
  });

  it("refuses to store packages naming a judgement dropped after the scan found it stored", async () => {
    const artifact = { repository: "p/app", digest: digestOf(1), mime_type: "" };
    const judged = await scanner.judgeImage(images[1], artifact);
    expect(judged.judgements.size).toBe(0);
    // The only image holding lodash goes, and a prune drops its judgement before the scan stores its packages.
    await sql.query("DELETE FROM scan_reports WHERE id = 'r1'");
    await scans.pruneJudgements();
    await sql.query("INSERT INTO scan_reports (id, digest, repository, scanner, scan_type, status) VALUES ('r1', $1, 'p/app', $2, 'vulnerability', 'Running')", [
      digestOf(1),
      EMBEDDED_SCANNER_UUID,
    ]);
    await expect(scans.succeedMatched("r1", judged)).rejects.toThrow(JudgementsGoneError);
    expect(await scans.succeedMatched("r1", await scanner.judgeImage(images[1], artifact, true))).toBe(true);
    expect(sorted(await report(1))).toEqual(sorted(await fresh(1)));
  });
});
