import type { Artifact, ScanSummary, Severity } from "../api/types";
import { formatDate } from "../lib/format";

/** The key Harbor files the vulnerability report and its summary under. */
export const REPORT_MIME_TYPE = "application/vnd.security.vulnerability.report; version=1.1";

export const SEVERITIES: Severity[] = ["Critical", "High", "Medium", "Low", "Negligible", "Unknown"];

export function vulnerabilityOverview(artifact: Artifact): ScanSummary | undefined {
  return artifact.scan_overview?.[REPORT_MIME_TYPE];
}

export function SeverityBadge(props: { severity: Severity }) {
  return <span class={`severity severity-${props.severity.toLowerCase()}`}>{props.severity}</span>;
}

/** Harbor's words for a scan that has not finished. */
const STATUS_WORDS: Record<string, string> = { Pending: "Queued", Running: "Scanning", Error: "Scan failed", Stopped: "Scan stopped" };

/**
 * The Vulnerabilities cell Harbor shows: "Not scanned", the state of a scan under way, or the overall severity with
 * the counts per severity ("12 total · 3 fixable").
 */
export function ScanSummaryView(props: { overview: ScanSummary | undefined }) {
  const overview = props.overview;
  if (!overview) return <span class="muted">Not scanned</span>;
  if (overview.scan_status !== "Success") return <span class={overview.scan_status === "Error" ? "scan-error" : "muted"}>{STATUS_WORDS[overview.scan_status] ?? overview.scan_status}</span>;
  const { total, fixable, summary } = overview.summary;
  if (total === 0) return <span class="severity severity-none" title={`Scanned ${formatDate(overview.end_time)} by ${overview.scanner.name}`}>No vulnerabilities</span>;
  const counts = SEVERITIES.filter((severity) => summary[severity]).map((severity) => `${summary[severity]} ${severity}`);
  return (
    <span class="scan-summary" title={`${counts.join(", ")}; scanned ${formatDate(overview.end_time)} by ${overview.scanner.name}`}>
      <SeverityBadge severity={overview.severity} /> {total} total · {fixable} fixable
    </span>
  );
}
