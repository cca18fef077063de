import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { migrate } from "../../registry/db/migrate";
import type { Sql } from "../../registry/db/sql";
import { matchInventory } from "../../registry/scanning/osv/match";
import type { Inventory } from "../../registry/scanning/inventory";
import { VulnDb } from "../../registry/scanning/vulndb/store";
import { twoNodeSetups, type Nodes } from "../support/database";
import { manyDebianRecords, osvRecord, osvZip } from "../support/osv-records";

const LIMITS = { maxJsonBytes: 1024 * 1024 };

/** Records as importCandidates takes them. */
const candidates = (records: unknown[]) => records.map((value, i) => ({ value, where: `#${i}` }));

describe.each(twoNodeSetups())("the vulnerability database (%s)", (_name, open) => {
  let nodes: Nodes;
  let sql: Sql;
  let db: VulnDb;
  let dir: string;

  beforeAll(async () => {
    nodes = await open();
    sql = nodes.a;
    await migrate(sql);
    dir = await mkdtemp(path.join(tmpdir(), "vulndb-store-"));
  });
  afterAll(async () => {
    await nodes.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await sql.query("TRUNCATE vulndb_records, vulndb_affected, vulndb_sources CASCADE");
    await sql.query("UPDATE vulndb_state SET generation = 0, last_sync_at = NULL, last_sync_error = NULL");
    db = new VulnDb(sql, { ...LIMITS, batchSize: 3, prefetchChunk: 2 });
  });

  it("imports records, skips those not newer, replaces newer ones with their index rows, and moves the generation only on a change", async () => {
    const first = await db.importCandidates("one", candidates([osvRecord("A", "npm", "left-pad", "1.0.0"), osvRecord("B", "PyPI", "PyYAML", "6.0"), { id: "broken" }]));
    expect(first).toMatchObject({ imported: 2, skipped: 0, invalid: 1, generation: 1, errors: [{ where: "broken", reason: expect.stringContaining("modified") }] });

    const again = await db.importCandidates("one", candidates([osvRecord("A", "npm", "left-pad", "1.0.0")]));
    expect(again).toMatchObject({ imported: 0, skipped: 1, generation: 1 });

    const newer = osvRecord("A", "npm", "right-pad", "2.0.0", "2026-02-01T00:00:00Z");
    expect(await db.importCandidates("two", candidates([newer]))).toMatchObject({ imported: 1, generation: 2 });
    expect(await db.source().recordsFor("npm", "left-pad")).toEqual([]);
    expect((await db.source().recordsFor("npm", "right-pad")).map((r) => r.id)).toEqual(["A"]);
    // PyPI looks up in any spelling.
    expect((await db.source().recordsFor("PyPI", "pyyaml")).map((r) => r.id)).toEqual(["B"]);
    expect((await db.source().recordsFor("PyPI", "PyYAML")).map((r) => r.id)).toEqual(["B"]);

    const status = await db.status();
    expect(status).toMatchObject({ generation: 2, total_records: 2, last_sync: null });
    expect(status.sources.map((s) => [s.name, s.records, s.last_import])).toEqual([
      ["one", 1, { imported: 0, skipped: 1, invalid: 0 }],
      ["two", 1, { imported: 1, skipped: 0, invalid: 0 }],
    ]);
    expect(status.sources[1].newest_modified).toBe("2026-02-01T00:00:00.000Z");
  });

  it("keeps the newer of two versions of one record within a single input", async () => {
    const result = await db.importCandidates("x", candidates([osvRecord("A", "npm", "a", "1.0.0", "2026-03-01T00:00:00Z"), osvRecord("A", "npm", "b", "1.0.0", "2026-01-01T00:00:00Z")]));
    expect(result).toMatchObject({ imported: 1, skipped: 1 });
    expect((await db.source().recordsFor("npm", "a")).length).toBe(1);
  });

  it("imports an all.zip from a file and answers many lookups from one prefetch, as matching needs them", async () => {
    const records = manyDebianRecords(40, 10);
    await writeFile(path.join(dir, "all.zip"), osvZip(records));
    const result = await db.importPath(path.join(dir, "all.zip"), "Debian", "zip");
    expect(result).toMatchObject({ imported: 40, invalid: 0 });

    const keys = Array.from({ length: 10 }, (_, i) => ({ ecosystem: "Debian:12", name: `pkg-${i}` }));
    const source = await db.prefetch([...keys, { ecosystem: "Debian:12", name: "absent" }]);
    for (const key of keys) {
      expect((await source.recordsFor(key.ecosystem, key.name)).map((r) => r.id)).toEqual((await db.source().recordsFor(key.ecosystem, key.name)).map((r) => r.id));
    }
    expect(await source.recordsFor("Debian:12", "absent")).toEqual([]);
    expect((await source.recordsFor("Debian:12", "pkg-3")).length).toBe(4);

    const inventory = {
      packages: [{ ecosystem: "Debian", name: "libpkg3", version: "1.0-1", sourceName: "pkg-3", sourceVersion: "1.0-1", path: "var/lib/dpkg/status", purl: "pkg:deb/debian/libpkg3@1.0-1" }],
    } as unknown as Inventory;
    const { findings } = await matchInventory(inventory, "Debian:12", source);
    expect(findings.map((f) => f.vendor_attributes.ids[0]).sort()).toEqual(["DEBIAN-CVE-2026-000003", "DEBIAN-CVE-2026-000013", "DEBIAN-CVE-2026-000023", "DEBIAN-CVE-2026-000033"]);
  });

  it("records a sync's outcome and the mirror's validators", async () => {
    await db.importCandidates("Alpine", candidates([osvRecord("ALPINE-1", "Alpine:v3.20", "musl", "1.2.5-r1")]));
    await db.setValidators("Alpine", { etag: '"abc"', lastModified: "Mon, 07 Dec 2026 00:00:00 GMT" });
    expect(await db.validators("Alpine")).toEqual({ etag: '"abc"', lastModified: "Mon, 07 Dec 2026 00:00:00 GMT" });
    expect(await db.validators("nothing")).toEqual({ etag: null, lastModified: null });
    await db.recordSync("Debian: GET … answered 404");
    expect((await db.status()).last_sync).toEqual({ at: expect.any(String), error: "Debian: GET … answered 404" });
  });
});
