import type { Finding } from "../../../../registry/scanning/osv/match";
import { indexSummary, reportSummary, vulnerabilityReport, type ReportSummary } from "../../../../registry/scanning/report/harbor";
import { pullVerdict, type PreventionPolicy } from "../../../../registry/scanning/report/pull-policy";

const SCANNER = { name: "Berth", vendor: "Berth", version: "0.1.0" };
const ARTIFACT = { repository: "team/app", digest: `sha256:${"cd".repeat(32)}`, mime_type: "application/vnd.oci.image.manifest.v1+json" };

function finding(id: string, severity: Finding["severity"], fix = "", ids: string[] = [id]): Finding {
  return { id, package: "libc6", version: "2.36-9", fix_version: fix, severity, description: "", links: [], vendor_attributes: { ids, ecosystem: "Debian:12", path: "var/lib/dpkg/status", purl: "pkg:deb/debian/libc6@2.36-9" } };
}

const FINDINGS = [finding("CVE-2024-0002", "Medium", "2.36-10"), finding("CVE-2024-0001", "Critical", "", ["DEBIAN-CVE-2024-0001", "CVE-2024-0001"]), finding("CVE-2023-9999", "Low")];
const START = new Date("2026-12-03T10:00:00Z");
const END = new Date("2026-12-03T10:00:07Z");

describe("Harbor's report and summary", () => {
  it("lists the most severe first and takes the report's severity from it", () => {
    const report = vulnerabilityReport(ARTIFACT, SCANNER, FINDINGS, END);
    expect(report.severity).toBe("Critical");
    expect(report.vulnerabilities.map((item) => item.id)).toEqual(["CVE-2024-0001", "CVE-2024-0002", "CVE-2023-9999"]);
    expect(report.generated_at).toBe("2026-12-03T10:00:07.000Z");
  });

  it("summarises a scan: counts per severity, fixable, duration; a failed scan has no severity", () => {
    const summary = reportSummary("r1", SCANNER, { status: "Success", startedAt: START, endedAt: END }, FINDINGS);
    expect(summary).toMatchObject({ scan_status: "Success", severity: "Critical", duration: 7, complete_percent: 100, summary: { total: 3, fixable: 1, summary: { Critical: 1, Medium: 1, Low: 1 } } });
    expect(reportSummary("r2", SCANNER, { status: "Error", startedAt: START, endedAt: END }, [])).toMatchObject({ severity: "Unknown", complete_percent: 0 });
  });

  it("merges the summaries of an index's children: added counts, the highest severity, the worst status", () => {
    const amd64 = reportSummary("a", SCANNER, { status: "Success", startedAt: START, endedAt: END }, FINDINGS);
    const arm64 = reportSummary("b", SCANNER, { status: "Success", startedAt: new Date("2026-12-03T09:59:58Z"), endedAt: START }, [finding("CVE-2024-0003", "High", "1")]);
    const merged = indexSummary("i", SCANNER, [amd64, arm64]) as ReportSummary;
    expect(merged).toMatchObject({ scan_status: "Success", severity: "Critical", duration: 9, summary: { total: 4, fixable: 2, summary: { Critical: 1, High: 1, Medium: 1, Low: 1 } } });
    const failed = reportSummary("c", SCANNER, { status: "Error", startedAt: START, endedAt: END }, []);
    expect(indexSummary("i", SCANNER, [amd64, failed])).toMatchObject({ scan_status: "Error", severity: "Unknown" });
    expect(indexSummary("i", SCANNER, [])).toBeNull();
  });
});

describe("prevent_vul: may this pull go ahead?", () => {
  const now = new Date("2026-12-03T12:00:00Z");
  const report = vulnerabilityReport(ARTIFACT, SCANNER, FINDINGS, END);
  const policy = (severity: string, allowlists: PreventionPolicy["allowlists"] = []): PreventionPolicy => ({ severity, allowlists });

  it("refuses an image at or above the threshold, naming the highest severity and a vulnerability", () => {
    const verdict = pullVerdict("team/app@sha256:cd…", { status: "Success", report }, policy("high"), now);
    expect(verdict).toEqual({ allowed: false, message: "team/app@sha256:cd… cannot be pulled: it has a Critical vulnerability (CVE-2024-0001), and the project refuses High and above" });
    expect(pullVerdict("x", { status: "Success", report }, policy("critical"), now).allowed).toBe(false);
  });

  it("lets an image below the threshold through, and one whose worst findings are allowlisted (by any of their ids)", () => {
    expect(pullVerdict("x", { status: "Success", report: vulnerabilityReport(ARTIFACT, SCANNER, [finding("CVE-1", "Medium")], END) }, policy("high"), now)).toEqual({ allowed: true, bypassed: [] });
    const allowlisted = pullVerdict("x", { status: "Success", report }, policy("medium", [{ items: [{ cve_id: "debian-cve-2024-0001" }, { cve_id: "CVE-2024-0002" }] }]), now);
    expect(allowlisted).toEqual({ allowed: true, bypassed: ["CVE-2024-0001", "CVE-2024-0002"] });
  });

  it("ignores an expired allowlist", () => {
    const expired = { items: [{ cve_id: "CVE-2024-0001" }], expires_at: Math.floor(now.getTime() / 1000) - 1 };
    expect(pullVerdict("x", { status: "Success", report }, policy("critical", [expired]), now).allowed).toBe(false);
    expect(pullVerdict("x", { status: "Success", report }, policy("critical", [{ ...expired, expires_at: null }]), now).allowed).toBe(true);
  });

  it("refuses an image never scanned or whose scan did not succeed, as Harbor does", () => {
    expect(pullVerdict("x", null, policy("critical"), now)).toEqual({ allowed: false, message: "x cannot be pulled: it has not been scanned, and the project refuses images without a vulnerability scan" });
    expect(pullVerdict("x", { status: "Error", report: null }, policy("critical"), now)).toMatchObject({ allowed: false, message: expect.stringContaining("its vulnerability scan is error") });
  });

  it("treats `none`, `negligible` and unknown words as: any vulnerability blocks, even an Unknown one", () => {
    const unknownOnly = vulnerabilityReport(ARTIFACT, SCANNER, [finding("CVE-5", "Unknown")], END);
    for (const word of ["none", "negligible", "bogus"]) expect(pullVerdict("x", { status: "Success", report: unknownOnly }, policy(word), now).allowed).toBe(false);
    expect(pullVerdict("x", { status: "Success", report: unknownOnly }, policy("low"), now).allowed).toBe(true);
    expect(pullVerdict("x", { status: "Success", report: vulnerabilityReport(ARTIFACT, SCANNER, [], END) }, policy("none"), now).allowed).toBe(true);
  });
});
