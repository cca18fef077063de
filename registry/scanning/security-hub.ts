import type { Queryable } from "../db/sql";
import { whereClause, type QueryTerm } from "../api/query";
import { EMBEDDED_SCANNER_UUID } from "./scan-service";
import { STORED_FINDINGS } from "./stored-findings";

/**
 * The artifacts that still exist (a manifest in a repository) with a successful vulnerability report, as `m`
 * (manifests), `r` (repositories) and `s` (scan_reports). Reports are kept by digest: one report counts once per
 * repository holding the digest, as Harbor counts artifacts.
 */
export const SCANNED_ARTIFACTS = `manifests m
  JOIN repositories r ON r.id = m.repository_id
  JOIN scan_reports s ON s.digest = m.digest AND s.scanner = '${EMBEDDED_SCANNER_UUID}' AND s.scan_type = 'vulnerability' AND s.status = 'Success'`;

/** A count from the report's stored summary (`summary.summary.<Severity>`), 0 when absent. */
const count = (severity: string) => `coalesce((s.summary->'summary'->>'${severity}')::int, 0)`;

/** Harbor's SecuritySummary (GET /vulnerabilities/summary). */
export interface SecuritySummary {
  total_vuls: number;
  fixable_cnt: number;
  critical_cnt: number;
  high_cnt: number;
  medium_cnt: number;
  low_cnt: number;
  none_cnt: number;
  unknown_cnt: number;
  scanned_cnt: number;
  total_artifact: number;
  dangerous_cves?: DangerousCve[];
  dangerous_artifacts?: DangerousArtifact[];
}

export interface DangerousCve {
  cve_id: string;
  severity: string;
  cvss_score_v3: number | null;
  desc: string;
  package: string;
  version: string;
}

export interface DangerousArtifact {
  project_id: number;
  repository_name: string;
  digest: string;
  critical_cnt: number;
  high_cnt: number;
  medium_cnt: number;
}

/** Harbor's VulnerabilityItem (GET /security/vul): one finding of one artifact. */
export interface VulnerabilityItem {
  project_id: number;
  repository_name: string;
  digest: string;
  /** With `with_tag=true` only, as in Harbor. */
  tags?: string[];
  cve_id: string;
  severity: string;
  /** Trivy's wording: "fixed" when a fixed version exists, else "affected". */
  status: string;
  cvss_v3_score: number | null;
  package: string;
  version: string;
  fixed_version: string;
  desc: string;
  links: string[];
}

/** The keys `q=` may filter on, as Harbor's security hub names them. */
export const VULNERABILITY_QUERY_KEYS = ["cve_id", "cvss_score_v3", "severity", "repository_name", "project_id", "package", "tag", "digest"] as const;

/** How many dangerous CVEs and artifacts the summary names (Harbor shows a top 5). */
const TOP = 5;

/** Past this many findings, `tune_count` answers -1 instead of counting them all (Harbor's tune_count). */
const TUNED_COUNT_MAX = 1000;

/** The findings of the artifacts of SCANNED_ARTIFACTS: each package `p` of a report with each advisory `a` of its judgement. */
const SCANNED_FINDINGS = `${SCANNED_ARTIFACTS} JOIN ${STORED_FINDINGS} ON p.report_id = s.id`;

/**
 * Harbor's security hub over every scanned artifact: counts come from each report's stored summary (no report is
 * unpacked for them); only the top CVEs and the finding list unpack reports, with the artifact filters applied first.
 */
export class SecurityHub {
  constructor(private readonly db: Queryable) {}

  async summary(options: { withDangerousCves: boolean; withDangerousArtifacts: boolean }): Promise<SecuritySummary> {
    const [totals] = await this.db.query<SecuritySummary>(
      `SELECT count(*)::int AS total_artifact, count(s.id)::int AS scanned_cnt,
              coalesce(sum((s.summary->>'total')::int), 0)::int AS total_vuls,
              coalesce(sum((s.summary->>'fixable')::int), 0)::int AS fixable_cnt,
              coalesce(sum(${count("Critical")}), 0)::int AS critical_cnt,
              coalesce(sum(${count("High")}), 0)::int AS high_cnt,
              coalesce(sum(${count("Medium")}), 0)::int AS medium_cnt,
              coalesce(sum(${count("Low")} + ${count("Negligible")}), 0)::int AS low_cnt,
              coalesce(sum(${count("None")}), 0)::int AS none_cnt,
              coalesce(sum(${count("Unknown")}), 0)::int AS unknown_cnt
         FROM manifests m
         LEFT JOIN scan_reports s ON s.digest = m.digest AND s.scanner = $1 AND s.scan_type = 'vulnerability' AND s.status = 'Success'`,
      [EMBEDDED_SCANNER_UUID],
    );
    const summary: SecuritySummary = { ...totals };
    if (options.withDangerousCves) summary.dangerous_cves = await this.dangerousCves();
    if (options.withDangerousArtifacts) summary.dangerous_artifacts = await this.dangerousArtifacts();
    return summary;
  }

  /**
   * The highest-scored CVEs of existing artifacts, each (CVE, package, version) once. Grouping every finding is what
   * costs (300 000 findings: ~2 s), so only findings scoring at least the 5th highest distinct score are grouped:
   * scores have one decimal, so finding that threshold is cheap, and at least 5 groups lie above it.
   */
  private dangerousCves(): Promise<DangerousCve[]> {
    const findings = `scan_reports s JOIN ${STORED_FINDINGS} ON p.report_id = s.id
        WHERE s.scanner = $1 AND s.scan_type = 'vulnerability' AND s.status = 'Success'
          AND EXISTS (SELECT 1 FROM manifests m WHERE m.digest = s.digest)
          AND a.score_v3 IS NOT NULL`;
    return this.db.query<DangerousCve>(
      `SELECT a.id AS cve_id, max(a.severity) AS severity, max(a.score_v3) AS cvss_score_v3,
              max(a.description) AS "desc", p.name AS package, p.version AS version
         FROM ${findings}
          AND a.score_v3 >= (SELECT min(score) FROM (SELECT DISTINCT a.score_v3 AS score FROM ${findings} ORDER BY score DESC LIMIT ${TOP}) AS top)
        GROUP BY a.id, p.name, p.version
        ORDER BY cvss_score_v3 DESC, cve_id, package, version
        LIMIT ${TOP}`,
      [EMBEDDED_SCANNER_UUID],
    );
  }

  /** The artifacts with the most critical, then high, then medium findings. */
  private dangerousArtifacts(): Promise<DangerousArtifact[]> {
    return this.db.query<DangerousArtifact>(
      `SELECT r.project_id, r.name AS repository_name, m.digest,
              ${count("Critical")} AS critical_cnt, ${count("High")} AS high_cnt, ${count("Medium")} AS medium_cnt
         FROM ${SCANNED_ARTIFACTS}
        WHERE ${count("Critical")} + ${count("High")} + ${count("Medium")} > 0
        ORDER BY critical_cnt DESC, high_cnt DESC, medium_cnt DESC, repository_name, m.digest
        LIMIT ${TOP}`,
    );
  }

  /**
   * One page of findings matching `terms`, the highest CVSS score first, and how many match in all: with `tuneCount`,
   * -1 when more than 1000 do (counting stops there). Tags are read for the page's artifacts when `withTags`.
   */
  async list(
    terms: QueryTerm[],
    limit: number,
    offset: number,
    options: { tuneCount?: boolean; withTags?: boolean } = {},
  ): Promise<{ rows: VulnerabilityItem[]; total: number }> {
    const params: unknown[] = [];
    const artifactTerms = terms.filter((term) => ["repository_name", "project_id", "digest"].includes(term.key));
    const findingTerms = terms.filter((term) => ["cve_id", "cvss_score_v3", "severity", "package"].includes(term.key));
    const tagTerms = terms.filter((term) => term.key === "tag");
    const conditions = [
      ...whereClause(artifactTerms, { repository_name: "r.name", project_id: "r.project_id", digest: "m.digest" }, params),
      ...whereClause(findingTerms, { cve_id: "a.id", cvss_score_v3: "a.score_v3", severity: "a.severity", package: "p.name" }, params, { cvss_score_v3: "decimal" }),
      ...whereClause(tagTerms, { tag: "t.name" }, params).map(
        (condition) => `EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest AND ${condition})`,
      ),
    ];
    const from = `${SCANNED_FINDINGS} ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""}`;
    const counted = options.tuneCount ? `(SELECT 1 FROM ${from} LIMIT ${TUNED_COUNT_MAX + 1}) AS counted` : from;
    const [{ count }] = await this.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${counted}`, params);
    const total = options.tuneCount && count > TUNED_COUNT_MAX ? -1 : count;
    if (count === 0 || (total >= 0 && offset >= total)) return { rows: [], total };
    const rows = await this.db.query<VulnerabilityItem & { repository_id: number }>(
      `SELECT r.project_id, r.name AS repository_name, m.repository_id, m.digest, a.id AS cve_id, a.severity, a.score_v3 AS cvss_v3_score,
              p.name AS package, p.version, a.fix_version AS fixed_version, a.description AS "desc", a.links
         FROM ${from}
        ORDER BY cvss_v3_score DESC NULLS LAST, repository_name, m.digest, cve_id, package, p.version, p.path
        LIMIT ${Number(limit)} OFFSET ${Number(offset)}`,
      params,
    );
    const tags = options.withTags ? await this.tagsOf(rows) : null;
    return {
      rows: rows.map(({ repository_id, ...row }) => ({
        ...row,
        status: row.fixed_version ? "fixed" : "affected",
        ...(tags ? { tags: tags.get(`${repository_id}@${row.digest}`) ?? [] } : {}),
      })),
      total,
    };
  }

  private async tagsOf(rows: Array<{ repository_id: number; digest: string }>): Promise<Map<string, string[]>> {
    const tags = new Map<string, string[]>();
    if (rows.length === 0) return tags;
    const found = await this.db.query<{ repository_id: number; digest: string; name: string }>(
      `SELECT t.repository_id, t.digest, t.name FROM tags t
         JOIN unnest($1::bigint[], $2::text[]) AS a(repository_id, digest) ON a.repository_id = t.repository_id AND a.digest = t.digest
        ORDER BY t.name`,
      [rows.map((row) => row.repository_id), rows.map((row) => row.digest)],
    );
    for (const tag of found) {
      const key = `${tag.repository_id}@${tag.digest}`;
      const names = tags.get(key) ?? [];
      if (!names.includes(tag.name)) names.push(tag.name);
      tags.set(key, names);
    }
    return tags;
  }
}
