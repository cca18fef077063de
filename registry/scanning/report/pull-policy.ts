import { severityRank } from "../osv/match";
import type { HarborSeverity } from "../osv/severity";
import type { ScanStatus, VulnerabilityReport } from "./harbor";

/** A CVE allowlist (the system's or a project's): ids that never block, until it expires. */
export interface CveAllowlist {
  items: { cve_id: string }[];
  /** Unix seconds; null or absent: never expires. */
  expires_at?: number | null;
}

/** A project's `prevent_vul` setting: refuse pulls of images with a vulnerability at or above `severity`. */
export interface PreventionPolicy {
  /** Harbor's project metadata `severity`: none, low, medium, high or critical. */
  severity: string;
  allowlists: CveAllowlist[];
}

export type PullVerdict = { allowed: true; bypassed: string[] } | { allowed: false; message: string };

/**
 * Harbor's threshold words (ParseSeverityVersion3): `negligible` counts as None, an unknown word as Unknown, so
 * both block on any vulnerability.
 */
export function preventionThreshold(word: string): HarborSeverity {
  const known: Record<string, HarborSeverity> = { none: "None", negligible: "None", low: "Low", medium: "Medium", high: "High", critical: "Critical" };
  return known[word.trim().toLowerCase()] ?? "Unknown";
}

function allowedIds(allowlists: CveAllowlist[], now: Date): Set<string> {
  const ids = new Set<string>();
  for (const list of allowlists) {
    if (list.expires_at != null && list.expires_at * 1000 <= now.getTime()) continue;
    for (const item of list.items) ids.add(item.cve_id.trim().toUpperCase());
  }
  return ids;
}

/**
 * Whether a pull of an image under `prevent_vul` goes ahead, as Harbor decides it: an image never scanned, or whose
 * last scan did not succeed, is refused; otherwise the highest severity among vulnerabilities not on an unexpired
 * allowlist is compared with the threshold (at or above it refuses). An allowlisted id matches the finding's id or
 * any id it was matched under. The message names the highest severity and one vulnerability that reaches it.
 */
export function pullVerdict(
  artifact: string,
  scan: { status: ScanStatus; report: VulnerabilityReport | null } | null,
  policy: PreventionPolicy,
  now: Date,
): PullVerdict {
  if (scan !== null && scan.status !== "Success") {
    return { allowed: false, message: `${artifact} cannot be pulled: its vulnerability scan is ${scan.status.toLowerCase()}, and the project refuses images without a successful scan` };
  }
  if (scan === null || scan.report === null) {
    return { allowed: false, message: `${artifact} cannot be pulled: it has not been scanned, and the project refuses images without a vulnerability scan` };
  }
  const allowed = allowedIds(policy.allowlists, now);
  const bypassed: string[] = [];
  let worst: { severity: HarborSeverity; id: string } | null = null;
  for (const item of scan.report.vulnerabilities) {
    const ids = [item.id, ...item.vendor_attributes.ids].map((id) => id.toUpperCase());
    if (ids.some((id) => allowed.has(id))) {
      bypassed.push(item.id);
      continue;
    }
    if (worst === null || severityRank(item.severity) > severityRank(worst.severity)) worst = { severity: item.severity, id: item.id };
  }
  const limit = preventionThreshold(policy.severity);
  if (worst !== null && severityRank(worst.severity) >= severityRank(limit)) {
    return {
      allowed: false,
      message: `${artifact} cannot be pulled: it has a ${worst.severity} vulnerability (${worst.id}), and the project refuses ${limit === "None" || limit === "Unknown" ? "any vulnerability" : `${limit} and above`}`,
    };
  }
  return { allowed: true, bypassed };
}
