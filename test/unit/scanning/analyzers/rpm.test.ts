/**
 * The rpm analyzer on SQLite rpmdbs written here: header blobs in the format rpm's headerExport writes (with the
 * immutable region entry real headers open with), stored in the schema rpm 4.16+ creates.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { analyze, interest, packagesOfHeaders, parseSourceRpm, readRpmHeader, RpmHeaderError } from "../../../../registry/scanning/analyzers/rpm";
import { findTool, testIf } from "../../../support/tools";
import { rpmPackageHeader as pkg, SCHEMA, sqlJsDatabase } from "./rpm-fixtures";

const BLOBS = [
  pkg("bash", "5.1.8", "9.el9", "x86_64", "bash-5.1.8-9.el9.src.rpm"),
  pkg("openssl-libs", "3.0.7", "27.el9", "x86_64", "openssl-3.0.7-27.el9.src.rpm", 1),
  pkg("python3-dateutil", "2.8.1", "7.el9", "noarch", "python-dateutil-2.8.1-7.el9.src.rpm", 1),
  pkg("gpg-pubkey", "fd431d51", "4ae0493b", null, null),
];

describe("rpm analyzer", () => {
  test("interest: the SQLite rpmdb in both places", () => {
    expect(interest("var/lib/rpm/rpmdb.sqlite", 1_000_000)).toBe(true);
    expect(interest("usr/lib/sysimage/rpm/rpmdb.sqlite", 1_000_000)).toBe(true);
    expect(interest("var/lib/rpm/Packages", 1_000_000)).toBe(false); // Berkeley DB: not read
    expect(interest("var/lib/rpm/rpmdb.sqlite-wal", 1_000)).toBe(false);
  });

  test("a header blob's tags", () => {
    expect(readRpmHeader(BLOBS[1]!)).toEqual({ name: "openssl-libs", version: "3.0.7", release: "27.el9", epoch: 1, arch: "x86_64", sourceRpm: "openssl-3.0.7-27.el9.src.rpm" });
  });

  test("damaged headers are refused, not read past their end", () => {
    const blob = BLOBS[0]!;
    expect(() => readRpmHeader(blob.subarray(0, 4))).toThrow(RpmHeaderError);
    expect(() => readRpmHeader(blob.subarray(0, blob.length - 20))).toThrow(RpmHeaderError);
    const bad = Buffer.from(blob);
    bad.writeInt32BE(100_000, 8 + 16 + 8); // NAME's offset, past the data
    expect(() => readRpmHeader(bad)).toThrow(/outside the data/);
  });

  test.each([
    ["bash-5.1.8-9.el9.src.rpm", { name: "bash", version: "5.1.8", release: "9.el9" }],
    ["python-dateutil-2.8.1-7.el9.src.rpm", { name: "python-dateutil", version: "2.8.1", release: "7.el9" }],
    ["kernel-5.14.0-427.13.1.el9_4.nosrc.rpm", { name: "kernel", version: "5.14.0", release: "427.13.1.el9_4" }],
    ["(none)", null],
  ])("source RPM %s", (sourceRpm, expected) => {
    expect(parseSourceRpm(sourceRpm)).toEqual(expected);
  });

  test("packages: epoch in the version, the source RPM's name and version, gpg-pubkey left out", () => {
    const packages = packagesOfHeaders("var/lib/rpm/rpmdb.sqlite", BLOBS);
    expect(packages.map((p) => [p.name, p.version, p.sourceName, p.sourceVersion, p.arch, p.purl])).toEqual([
      ["bash", "5.1.8-9.el9", "bash", "5.1.8-9.el9", "x86_64", "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64"],
      ["openssl-libs", "1:3.0.7-27.el9", "openssl", "1:3.0.7-27.el9", "x86_64", "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1"],
      ["python3-dateutil", "1:2.8.1-7.el9", "python-dateutil", "1:2.8.1-7.el9", "noarch", "pkg:rpm/redhat/python3-dateutil@2.8.1-7.el9?arch=noarch&epoch=1"],
    ]);
    expect(packages.every((p) => p.ecosystem === "Red Hat")).toBe(true);
  });

  test("an rpmdb.sqlite written by sql.js", async () => {
    const packages = await analyze("var/lib/rpm/rpmdb.sqlite", await sqlJsDatabase(BLOBS));
    expect(packages.map((p) => p.name)).toEqual(["bash", "openssl-libs", "python3-dateutil"]);
  });

  testIf(findTool("sqlite3") !== null, "the sqlite3 command (apt install sqlite3)")("an rpmdb.sqlite written by the sqlite3 command (another SQLite than sql.js's)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "berth-rpmdb-"));
    try {
      const file = path.join(dir, "rpmdb.sqlite");
      const inserts = BLOBS.map((blob) => `INSERT INTO Packages (blob) VALUES (X'${blob.toString("hex")}');`).join("\n");
      execFileSync("sqlite3", [file], { input: `${SCHEMA};\nCREATE TABLE 'Name' (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));\n${inserts}\n` });
      const packages = await analyze("usr/lib/sysimage/rpm/rpmdb.sqlite", readFileSync(file));
      expect(packages.map((p) => `${p.name}-${p.version}.${p.arch}`)).toEqual(["bash-5.1.8-9.el9.x86_64", "openssl-libs-1:3.0.7-27.el9.x86_64", "python3-dateutil-1:2.8.1-7.el9.noarch"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a file that is not SQLite fails (the walk lists it as skipped)", async () => {
    await expect(analyze("var/lib/rpm/rpmdb.sqlite", Buffer.from("not a database at all, not even close".repeat(100)))).rejects.toThrow();
  });
});
