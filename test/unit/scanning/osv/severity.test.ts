import { cvss3BaseScore, severityForScore, severityOf } from "../../../../registry/scanning/osv/severity";
import type { OsvRecord } from "../../../../registry/scanning/osv/types";

// Base scores as the FIRST CVSS v3.1 calculator and NVD give them.
const VECTORS: Array<[string, number]> = [
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
  ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0], // Log4Shell, CVE-2021-44228
  ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8], // Looney Tunables, CVE-2023-4911
  ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", 5.9], // Terrapin, CVE-2023-48795
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
  ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4],
  ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2],
  ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1],
  ["CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8],
  ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5],
  ["CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.0],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8],
  ["CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6],
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0],
  // temporal metrics do not change the base score
  ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8],
];

describe("CVSS v3 base score", () => {
  it.each(VECTORS)("%s → %d", (vector, score) => {
    expect(cvss3BaseScore(vector)).toBe(score);
  });

  it.each([
    "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // no version prefix
    "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", // A missing
    "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "",
  ])("refuses %j", (vector) => {
    expect(cvss3BaseScore(vector)).toBeNull();
  });
});

describe("Harbor severity", () => {
  it.each<[number, string]>([
    [10, "Critical"],
    [9.0, "Critical"],
    [8.9, "High"],
    [7.0, "High"],
    [6.9, "Medium"],
    [4.0, "Medium"],
    [3.9, "Low"],
    [0.1, "Low"],
    [0, "None"],
  ])("score %d → %s", (score, severity) => {
    expect(severityForScore(score)).toBe(severity);
  });

  const record = (extra: Partial<OsvRecord>): OsvRecord => ({ id: "x_TEST-1", modified: "2026-01-01T00:00:00Z", ...extra });

  it("takes a CVSS v3 vector first, the package's own before the record's", () => {
    const r = record({
      severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
      database_specific: { severity: "LOW" },
    });
    expect(severityOf(r)).toEqual({
      severity: "Critical",
      source: "cvss_v3",
      cvssV3: { vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", score: 9.8 },
    });
    const affected = { severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H" }] };
    expect(severityOf(r, affected).severity).toBe("Medium");
  });

  it("skips CVSS v2/v4 and malformed vectors, then reads GHSA's severity word (MODERATE → Medium)", () => {
    const r = record({
      severity: [
        { type: "CVSS_V4", score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" },
        { type: "CVSS_V3", score: "CVSS:3.1/AV:N" },
      ],
      database_specific: { severity: "MODERATE", cwe_ids: ["CWE-79"] },
    });
    expect(severityOf(r)).toEqual({ severity: "Medium", source: "text" });
  });

  it("reads a Debian urgency, unconfirmed marks included, and unimportant as Negligible", () => {
    expect(severityOf(record({}), { ecosystem_specific: { urgency: "high**" } }).severity).toBe("High");
    expect(severityOf(record({}), { database_specific: { urgency: "unimportant" } }).severity).toBe("Negligible");
    expect(severityOf(record({}), { ecosystem_specific: { urgency: "not yet assigned" } }).severity).toBe("Unknown");
  });

  it("reads an Ubuntu priority", () => {
    expect(severityOf(record({ severity: [{ type: "Ubuntu", score: "medium" }] })).severity).toBe("Medium");
  });

  it("says Unknown when nothing rates the record", () => {
    expect(severityOf(record({}))).toEqual({ severity: "Unknown", source: "none" });
  });
});
