import { findingOf, severityRank, type Finding } from "./osv/match";
import type { HarborSeverity } from "./osv/severity";

/**
 * The findings of the embedded scanner's reports as the database keeps them: each package of a report (`p`,
 * scan_packages, joined to its report `s` by the caller) with each advisory of its judgement (`a`, scan_advisories).
 */
export const STORED_FINDINGS = "scan_packages p JOIN scan_advisories a ON a.judgement = p.judgement";

/** The columns a finding is built from (findingOfRow). */
export const FINDING_COLUMNS = "p.ecosystem, p.name, p.version, p.path, p.purl, a.id, a.severity, a.fix_version, a.score_v3, a.vector_v3, a.description, a.links, a.ids";

/** An SQL expression ranking `a.severity` as reports order findings (the most severe first when sorted descending). */
export const SEVERITY_RANK_SQL = `CASE a.severity ${(["Critical", "High", "Medium", "Low", "Negligible"] as HarborSeverity[])
  .map((severity) => `WHEN '${severity}' THEN ${severityRank(severity)}`)
  .join(" ")} ELSE 0 END`;

/** Report order in SQL: the most severe first, then by id and package (vulnerabilityReport's order). */
export const REPORT_ORDER_SQL = `${SEVERITY_RANK_SQL} DESC, a.id, p.name, p.version, p.path`;

export interface FindingRow {
  ecosystem: string;
  name: string;
  version: string;
  path: string;
  purl: string;
  id: string;
  severity: HarborSeverity;
  fix_version: string;
  score_v3: number | null;
  vector_v3: string | null;
  description: string;
  links: string[];
  ids: string[];
}

export function findingOfRow(row: FindingRow): Finding {
  return findingOf(row, {
    id: row.id,
    severity: row.severity,
    fix_version: row.fix_version,
    description: row.description,
    links: row.links,
    ids: row.ids,
    ...(row.score_v3 !== null && row.vector_v3 !== null ? { preferred_cvss: { score_v3: row.score_v3, vector_v3: row.vector_v3 } } : {}),
  });
}
