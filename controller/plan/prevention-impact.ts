import type { ApiClient } from "../api-client";
import type { DesiredProject, SeverityThreshold } from "../policy/model";
import { scanningBody, type HarborCveAllowlist } from "../state/harbor-shapes";
import { severityRank } from "../../registry/scanning/osv/match";
import type { HarborSeverity } from "../../registry/scanning/osv/severity";
import { VULNERABILITY_REPORT_MIME_TYPE, type ReportSummary, type VulnerabilityReport } from "../../registry/scanning/report/harbor";
import { preventionThreshold, pullVerdict, type PreventionPolicy, type PullVerdict } from "../../registry/scanning/report/pull-policy";

/** An image a prevention setting would refuse to pull, and why (the registry's own refusal message). */
export interface BlockedImage {
  repository: string;
  digest: string;
  tags: string[];
  reason: string;
}

export interface PreventionImpact {
  project: string;
  severity: SeverityThreshold;
  blocks: BlockedImage[];
  /** Blocked by their scan summary alone: the vulnerability lists were not read, so allowlists were not applied. */
  unchecked: number;
}

/** Per project, the vulnerability lists read at most (one request each): the preview stays cheap on big projects. */
export const MAX_REPORTS = 50;

export interface ApiArtifact {
  digest: string;
  type?: string;
  manifest_media_type?: string;
  tags: { name: string }[] | null;
  scan_overview?: Record<string, Pick<ReportSummary, "scan_status" | "severity" | "summary">>;
}

const isIndex = (artifact: ApiArtifact) => artifact.type === "IMAGE_INDEX" || /index|manifest\.list/.test(artifact.manifest_media_type ?? "");

/** `Critical 1, High 2`, the most severe first. */
export function countsOf(summary: Pick<ReportSummary, "summary">): string {
  const counts = Object.entries(summary.summary.summary ?? {}) as [HarborSeverity, number][];
  return counts
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => severityRank(b) - severityRank(a))
    .map(([severity, n]) => `${severity} ${n}`)
    .join(", ");
}

/**
 * What the scan summary alone says of a pull under `policy` (Harbor's rule, pull-policy.ts): refused when never
 * scanned or not scanned successfully, allowed when its highest severity is below the threshold (an allowlist only
 * lowers it), and otherwise "report": only the vulnerability list says whether allowlisted ids leave it below.
 */
export function summaryVerdict(label: string, artifact: ApiArtifact, policy: PreventionPolicy, now: Date): PullVerdict | "report" {
  const summary = artifact.scan_overview?.[VULNERABILITY_REPORT_MIME_TYPE];
  if (!summary) return pullVerdict(label, null, policy, now);
  if (summary.scan_status !== "Success") return pullVerdict(label, { status: summary.scan_status, report: null }, policy, now);
  if (summary.summary.total === 0 || severityRank(summary.severity) < severityRank(preventionThreshold(policy.severity))) return { allowed: true, bypassed: [] };
  return "report";
}

/** The refusal when the vulnerability list was not read: by the summary's counts, saying allowlists were not applied. */
function summaryRefusal(label: string, artifact: ApiArtifact): string {
  const summary = artifact.scan_overview![VULNERABILITY_REPORT_MIME_TYPE];
  return `${label} cannot be pulled by its scan summary (${countsOf(summary)}); its vulnerability list was not read, so allowlists were not applied`;
}

/**
 * The allowlists a pull in `project` would honour after the plan: the files' own list when they manage it, else the
 * project's own list or the system's, whichever the registry uses now.
 */
async function allowlistsAfter(client: ApiClient, project: string, declared: Pick<DesiredProject, "cveAllowlist">): Promise<HarborCveAllowlist[]> {
  if (declared.cveAllowlist !== null) return [scanningBody({ cveAllowlist: { useSystemAllowlist: false, ...declared.cveAllowlist } }).cve_allowlist!];
  const live = await client.get<{ metadata: Record<string, string>; cve_allowlist?: HarborCveAllowlist }>(`/projects/${encodeURIComponent(project)}`);
  if (live?.metadata.reuse_sys_cve_allowlist === "false") return live.cve_allowlist ? [live.cve_allowlist] : [];
  const system = await client.get<HarborCveAllowlist>("/system/CVEAllowlist");
  return system ? [system] : [];
}

/**
 * The current images of `project` that prevention at `severity` would refuse to pull, decided as the registry
 * decides a pull: from each artifact's scan summary, and where that is not enough (a vulnerability at or above the
 * threshold, which an allowlisted id might excuse) from its vulnerability list, up to MAX_REPORTS of them. Image
 * indexes are never refused themselves (their images are checked when pulled).
 */
export async function preventionImpact(
  client: ApiClient,
  project: string,
  declared: Pick<DesiredProject, "cveAllowlist">,
  severity: SeverityThreshold,
  now = new Date(),
): Promise<PreventionImpact> {
  const policy: PreventionPolicy = { severity, allowlists: await allowlistsAfter(client, project, declared) };
  const encoded = encodeURIComponent(project);
  const impact: PreventionImpact = { project, severity, blocks: [], unchecked: 0 };
  let reports = 0;
  for (const { name } of await client.list<{ name: string }>(`/projects/${encoded}/repositories`)) {
    const repository = name.slice(project.length + 1);
    const base = `/projects/${encoded}/repositories/${encodeURIComponent(encodeURIComponent(repository))}/artifacts`;
    for (const artifact of await client.list<ApiArtifact>(`${base}?with_tag=true&with_scan_overview=true`)) {
      if (isIndex(artifact)) continue;
      const tags = (artifact.tags ?? []).map((t) => t.name);
      const label = `${name}@${artifact.digest}${tags.length ? ` (${tags.join(", ")})` : ""}`;
      let verdict = summaryVerdict(label, artifact, policy, now);
      if (verdict === "report" && reports < MAX_REPORTS) {
        reports += 1;
        const report = (await client.get<Record<string, VulnerabilityReport>>(`${base}/${artifact.digest}/additions/vulnerabilities`))?.[VULNERABILITY_REPORT_MIME_TYPE];
        if (report) verdict = pullVerdict(label, { status: "Success", report }, policy, now);
      }
      if (verdict === "report") {
        impact.unchecked += 1;
        verdict = { allowed: false, message: summaryRefusal(label, artifact) };
      }
      if (!verdict.allowed) impact.blocks.push({ repository: name, digest: artifact.digest, tags, reason: verdict.message });
    }
  }
  return impact;
}
