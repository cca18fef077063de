import { migrate } from "../../registry/db/migrate";
import type { Sql } from "../../registry/db/sql";
import { CVE_EXPORT_HEADER, writeCveExport } from "../../registry/scanning/cve-export/export-job";
import { CveExportFiles } from "../../registry/scanning/cve-export/export-store";
import { judgementKey, type JudgedPackage, type Judgement } from "../../registry/scanning/osv/match";
import { ScanStore } from "../../registry/scanning/scan-store";
import { SecurityHub } from "../../registry/scanning/security-hub";
import { twoNodeSetups, type Nodes } from "../support/database";
import { parseCsv } from "../support/scanned-images";

const ARTIFACTS = 4;
const FINDINGS = 300;
const digestOf = (n: number) => `sha256:${String(n).padStart(64, "0")}`;

/** The security hub's and the CVE export's queries on stored reports larger than the integration test's. */
describe.each(twoNodeSetups())("security hub and CVE export over stored reports (%s)", (_name, open) => {
  let nodes: Nodes;
  let sql: Sql;
  let files: CveExportFiles;
  let scans: ScanStore;

  const execution = async () =>
    (await sql.query<{ id: number }>("INSERT INTO executions (vendor_type, vendor_id, status, trigger) VALUES ('SCAN_DATA_EXPORT', 1, 'Running', 'MANUAL') RETURNING id"))[0].id;

  beforeAll(async () => {
    nodes = await open();
    sql = nodes.a;
    await migrate(sql);
    files = new CveExportFiles(sql);
    scans = new ScanStore(sql);
    await sql.query("INSERT INTO projects (name) VALUES ('p')");
    await sql.query("INSERT INTO repositories (project_id, name) VALUES (1, 'p/app')");
    for (let a = 1; a <= ARTIFACTS; a++) {
      await sql.query("INSERT INTO manifests (repository_id, digest, media_type, size, content) VALUES (1, $1, 'application/vnd.oci.image.manifest.v1+json', 2, $2)", [
        digestOf(a),
        Buffer.from("{}"),
      ]);
      // FINDINGS findings over 50 packages (and @scope/pkg), each package version judged once with its advisories.
      const judgements = new Map<string, Judgement>();
      const packages: JudgedPackage[] = [];
      for (let f = 0; f < FINDINGS; f++) {
        const name = f % 7 === 0 ? "@scope/pkg" : `pkg${f % 50}`;
        const key = judgementKey({ osvEcosystem: "npm", ecosystem: "npm", name, version: `1.${a}` });
        if (!judgements.has(key)) {
          judgements.set(key, { advisories: [] });
          packages.push({ judgement: key, ecosystem: "npm", name, version: `1.${a}`, path: "", purl: "" });
        }
        judgements.get(key)!.advisories.push({
          id: `CVE-2026-${f}`,
          fix_version: "",
          severity: "High",
          description: `${"d".repeat(1000)}, "quoted"`,
          links: [],
          preferred_cvss: { score_v3: ((a * 13 + f) % 100) / 10, vector_v3: "CVSS:3.1/x" },
          ids: [],
        });
      }
      await sql.query(
        "INSERT INTO scan_reports (id, digest, repository, scanner, scan_type, status) VALUES ($1, $2, 'p/app', 'berth-embedded', 'vulnerability', 'Success')",
        [`r${a}`, digestOf(a)],
      );
      const heading = { generated_at: new Date().toISOString(), artifact: { repository: "p/app", digest: digestOf(a), mime_type: "" }, scanner: { name: "Berth", vendor: "Berth", version: "1" } };
      expect(await scans.succeedMatched(`r${a}`, { heading, packages, judgements, generation: 1, keys: [] }, false)).toBe(true);
    }
  });
  afterAll(() => nodes.cleanup());

  it("names the same top CVEs as grouping every finding would", async () => {
    const naive = await sql.query<{ score: number }>(
      `SELECT max(a.score_v3) AS score FROM scan_packages p JOIN scan_advisories a ON a.judgement = p.judgement
        GROUP BY a.id, p.name, p.version ORDER BY score DESC LIMIT 5`,
    );
    const { dangerous_cves } = await new SecurityHub(sql).summary({ withDangerousCves: true, withDangerousArtifacts: false });
    expect(dangerous_cves!.map((cve) => cve.cvss_score_v3)).toEqual(naive.map((row) => row.score));
  });

  it("counts past 1000 findings only without tune_count", async () => {
    const hub = new SecurityHub(sql);
    expect((await hub.list([], 10, 0)).total).toBe(ARTIFACTS * FINDINGS);
    const tuned = await hub.list([], 10, 20, { tuneCount: true });
    expect(tuned.total).toBe(-1);
    expect(tuned.rows).toHaveLength(10);
  });

  it("writes an export larger than a chunk in chunks that read back as one CSV", async () => {
    const id = await execution();
    const result = await writeCveExport(sql, files, id, { projects: [1], repositories: [], tags: [], cve_ids: [] }, "Berth", new AbortController().signal);
    expect(result).toMatchObject({ rows: ARTIFACTS * FINDINGS, artifacts: ARTIFACTS });
    const chunks: Buffer[] = [];
    for await (const chunk of files.read(id)) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => chunk.length <= 1024 * 1024 + 4096)).toBe(true);
    const [header, ...rows] = parseCsv(Buffer.concat(chunks).toString("utf8"));
    expect(header).toEqual([...CVE_EXPORT_HEADER]);
    expect(rows).toHaveLength(ARTIFACTS * FINDINGS);
    expect(rows.filter((row) => row[4] === "'@scope/pkg")).toHaveLength(ARTIFACTS * Math.ceil(FINDINGS / 7));
    expect(JSON.parse(rows[0][9])).toMatchObject({ description: `${"d".repeat(1000)}, "quoted"` });
  });

  it("filters by CVE and repository, stops when asked, and drops expired files whole", async () => {
    const filtered = await execution();
    const only = await writeCveExport(sql, files, filtered, { projects: [1], repositories: ["app"], tags: [], cve_ids: ["CVE-2026-7"] }, "Berth", new AbortController().signal);
    expect(only.rows).toBe(ARTIFACTS);
    const none = await writeCveExport(sql, files, await execution(), { projects: [1], repositories: ["other"], tags: [], cve_ids: [] }, "Berth", new AbortController().signal);
    expect(none.rows).toBe(0);

    const stop = new AbortController();
    stop.abort();
    await expect(writeCveExport(sql, files, await execution(), { projects: [1], repositories: [], tags: [], cve_ids: [] }, "Berth", stop.signal)).rejects.toThrow("stopped");

    await sql.query("UPDATE executions SET status = 'Success', end_time = now() - interval '2 hours' WHERE id = $1", [filtered]);
    await files.purgeOlderThan(3);
    expect(await files.exists(filtered)).toBe(true);
    await files.purgeOlderThan(1);
    expect(await files.exists(filtered)).toBe(false);
  });
});
