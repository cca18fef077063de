import path from "node:path";
import { formatStatus, runVulnDb, sourceNameOf } from "../../../../registry/scanning/vulndb/cli";

const collect = () => {
  let text = "";
  return { write: (chunk: string) => (text += chunk), text: () => text };
};

describe("berth vulndb (without a registry)", () => {
  it("files an osv.dev all.zip under its ecosystem and anything else under its path", () => {
    expect(sourceNameOf("/mirror/Debian/all.zip")).toBe("Debian");
    expect(sourceNameOf("/data/extra.zip")).toBe("/data/extra.zip");
    expect(sourceNameOf("records.json")).toBe(path.resolve("records.json"));
  });

  it("shows an empty database and how to fill it", () => {
    expect(formatStatus({ generation: 0, total_records: 0, sources: [], last_sync: null, sync: null })).toBe(
      "generation 0, 0 records\nmirror sync: off (BERTH_VULNDB_URL is not set on the registry)\n\n" +
        "The database is empty: import OSV data with `berth vulndb import PATH`, or set BERTH_VULNDB_URL.\n",
    );
  });

  it("lines sources up in a table with their ages, and names a sync's failures", () => {
    const text = formatStatus({
      generation: 7,
      total_records: 1201,
      last_sync: { at: "2026-12-07T03:00:00.000Z", error: "Wolfi: GET … answered 404" },
      sync: { schedule: "0 3 * * *", ecosystems: ["Debian", "Wolfi"] },
      sources: [
        { name: "Debian", records: 1200, newest_modified: "2026-12-06T22:00:00.000Z", imported_at: "", age_seconds: 7300, last_import: { imported: 3, skipped: 1197, invalid: 0 } },
        { name: "upload", records: 1, newest_modified: null, imported_at: "", age_seconds: 200_000, last_import: { imported: 1, skipped: 0, invalid: 2 } },
      ],
    });
    expect(text).toBe(
      [
        "generation 7, 1201 records",
        "last sync: 2026-12-07T03:00:00.000Z, with failures: Wolfi: GET … answered 404",
        'mirror sync: Debian, Wolfi on "0 3 * * *"',
        "",
        "SOURCE  RECORDS  NEWEST MODIFIED           IMPORTED  LAST IMPORT",
        "Debian  1200     2026-12-06T22:00:00.000Z  2h ago    +3 =1197 !0",
        "upload  1        -                         2d ago    +1 =0 !2",
        "",
        "LAST IMPORT: +written =skipped (not newer) !invalid",
        "",
      ].join("\n"),
    );
  });

  it("exits 2 on usage mistakes and unset variables, before any request", async () => {
    const out = collect();
    const err = collect();
    expect(await runVulnDb([], {}, out, err)).toBe(2);
    expect(err.text()).toContain("usage: berth vulndb <command>");
    expect(await runVulnDb(["status", "extra"], {}, out, err)).toBe(2);
    expect(await runVulnDb(["import", "x"], { BERTH_REGISTRY_URL: "http://127.0.0.1:1" }, out, err)).toBe(2);
    expect(err.text()).toContain("berth vulndb: set BERTH_REGISTRY_USER, BERTH_REGISTRY_PASSWORD");
    expect(await runVulnDb(["--help"], {}, out, err)).toBe(0);
    expect(out.text()).toContain("Exit codes:");
  });
});
