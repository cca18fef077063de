import { severityRank, summarize, type Finding } from "../osv/match";
import type { HarborSeverity } from "../osv/severity";

/** The generic vulnerability report Harbor reads (pluggable scanner spec; the 1.0 and 1.1 shapes are the same). */
export const VULNERABILITY_REPORT_MIME_TYPE = "application/vnd.security.vulnerability.report; version=1.1";

export interface ScannerInfo {
  name: string;
  vendor: string;
  version: string;
}

export interface ReportArtifact {
  repository: string;
  digest: string;
  mime_type: string;
}

/** HarborVulnerabilityReport: what `GET …/additions/vulnerabilities` shows under the report's media type. */
export interface VulnerabilityReport {
  generated_at: string;
  artifact: ReportArtifact;
  scanner: ScannerInfo;
  severity: HarborSeverity;
  vulnerabilities: Finding[];
}

export type ScanStatus = "Pending" | "Running" | "Success" | "Error" | "Stopped";

/** Harbor's NativeReportSummary: one entry of an artifact's `scan_overview`. */
export interface ReportSummary {
  report_id: string;
  scan_status: ScanStatus;
  severity: HarborSeverity;
  duration: number;
  summary: { total: number; fixable: number; summary: Partial<Record<HarborSeverity, number>> };
  start_time: string;
  end_time: string;
  complete_percent: number;
  scanner: ScannerInfo;
}

/** Findings ordered as Harbor lists them: the most severe first, then by id and package. */
export function vulnerabilityReport(artifact: ReportArtifact, scanner: ScannerInfo, findings: Finding[], generatedAt: Date): VulnerabilityReport {
  const ordered = [...findings].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.package.localeCompare(b.package),
  );
  return { generated_at: generatedAt.toISOString(), artifact, scanner, severity: summarize(findings).severity, vulnerabilities: ordered };
}

/** Harbor's counts of a report (kept beside it, so listings need not load whole reports). */
export type ReportCounts = ReturnType<typeof summarize>;

/** An artifact's summary from its run and its findings (or their counts, when the findings are not loaded). */
export function reportSummary(
  reportId: string,
  scanner: ScannerInfo,
  run: { status: ScanStatus; startedAt: Date; endedAt: Date },
  findings: Finding[] | ReportCounts,
): ReportSummary {
  const counts = Array.isArray(findings) ? summarize(findings) : findings;
  const done = run.status === "Success";
  return {
    report_id: reportId,
    scan_status: run.status,
    severity: done ? counts.severity : "Unknown",
    duration: Math.round((run.endedAt.getTime() - run.startedAt.getTime()) / 1000),
    summary: { total: counts.total, fixable: counts.fixable, summary: counts.summary },
    start_time: run.startedAt.toISOString(),
    end_time: run.endedAt.toISOString(),
    complete_percent: done ? 100 : 0,
    scanner,
  };
}

/**
 * The summary of an image index from its children's, as Harbor shows it: counts added up, the highest severity, the
 * earliest start and latest end; the status is the worst any child has (a child still running keeps the index
 * running, a failed child fails it).
 */
export function indexSummary(reportId: string, scanner: ScannerInfo, children: ReportSummary[]): ReportSummary | null {
  if (children.length === 0) return null;
  const statusOrder: ScanStatus[] = ["Success", "Stopped", "Pending", "Running", "Error"];
  const status = children.map((child) => child.scan_status).reduce((worst, next) => (statusOrder.indexOf(next) > statusOrder.indexOf(worst) ? next : worst));
  const counts: Partial<Record<HarborSeverity, number>> = {};
  let severity: HarborSeverity = "None";
  for (const child of children) {
    for (const [name, count] of Object.entries(child.summary.summary) as [HarborSeverity, number][]) counts[name] = (counts[name] ?? 0) + count;
    if (child.severity !== "None" && (severity === "None" || severityRank(child.severity) > severityRank(severity))) severity = child.severity;
  }
  const starts = children.map((child) => child.start_time).sort();
  const ends = children.map((child) => child.end_time).sort();
  return {
    report_id: reportId,
    scan_status: status,
    severity: status === "Success" ? severity : "Unknown",
    duration: Math.round((Date.parse(ends[ends.length - 1]) - Date.parse(starts[0])) / 1000),
    summary: {
      total: children.reduce((sum, child) => sum + child.summary.total, 0),
      fixable: children.reduce((sum, child) => sum + child.summary.fixable, 0),
      summary: counts,
    },
    start_time: starts[0],
    end_time: ends[ends.length - 1],
    complete_percent: Math.round(children.reduce((sum, child) => sum + child.complete_percent, 0) / children.length),
    scanner,
  };
}
