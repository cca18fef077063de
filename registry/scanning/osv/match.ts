import type { Ecosystem, Inventory, Package } from "../inventory";
import { comparatorForOsvEcosystem, InvalidVersionError, type VersionComparator } from "../version/index";
import { normalizePythonName } from "../analyzers/python";
import { fixedVersionFor, isAffected } from "./ranges";
import { severityOf, type HarborSeverity, type SeverityVerdict } from "./severity";
import type { OsvAffected, OsvRecord } from "./types";

/** Where matching finds vulnerability records: the imported database, keyed as OSV keys packages. */
export interface VulnerabilitySource {
  /** Records with an `affected` entry for `name` in exactly this OSV ecosystem (`Debian:12`, `npm`, …). */
  recordsFor(osvEcosystem: string, name: string): Promise<OsvRecord[]>;
}

/** One vulnerability of one installed package, in the shape of Harbor's report item. */
export interface Finding {
  /** The CVE id when the record has one (Harbor's allowlists are by CVE), else the record's own id. */
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: HarborSeverity;
  description: string;
  links: string[];
  preferred_cvss?: { score_v3: number; vector_v3: string };
  /** Every id the finding was matched under (OSV ids and aliases), the ecosystem and where the package was found. */
  vendor_attributes: { ids: string[]; ecosystem: string; path: string; purl: string };
}

export interface MatchResult {
  findings: Finding[];
  /** Packages matching could not judge (a version their ecosystem's ordering cannot read), with the reason. */
  unmatched: { package: Package; reason: string }[];
}

const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set(["Debian", "Ubuntu", "Alpine", "Red Hat", "Rocky Linux", "AlmaLinux"]);

/** Harbor's severity codes for comparison (src/pkg/scan/vuln/severity.go): None and Unknown rank lowest. */
const SEVERITY_RANK: Record<HarborSeverity, number> = { Unknown: 0, None: 0, Negligible: 1, Low: 2, Medium: 3, High: 4, Critical: 5 };

export function severityRank(severity: HarborSeverity): number {
  return SEVERITY_RANK[severity];
}

/**
 * The OSV ecosystem a package's records are filed under: OS packages under the image's release (`Debian:12`,
 * `Alpine:v3.20`; none when the distribution is unknown or of another family), language packages under their own.
 */
export function osvEcosystemOf(pkg: Package, osEcosystem: string | null): string | null {
  if (!OS_ECOSYSTEMS.has(pkg.ecosystem)) return pkg.ecosystem;
  if (osEcosystem === null || osEcosystem.split(":")[0] !== pkg.ecosystem) return null;
  return osEcosystem;
}

/** OSV names PyPI packages in any spelling; PEP 503 makes `PyYAML` and `pyyaml` one. Other names compare as given. */
function sameName(ecosystem: Ecosystem, a: string, b: string): boolean {
  return ecosystem === "PyPI" ? normalizePythonName(a) === normalizePythonName(b) : a === b;
}

/**
 * Every vulnerability the records of `source` give the inventory's packages. Debian packages are looked up by
 * source package and source version, Alpine's by origin (Package.sourceName/sourceVersion); the finding names the
 * installed package, as Trivy and Harbor show it. Records for the same CVE collapse into one finding per package
 * (all their ids kept); the severity is the highest any gives and the fix version the highest any needs.
 */
export async function matchInventory(inventory: Inventory, osEcosystem: string | null, source: VulnerabilitySource): Promise<MatchResult> {
  const findings = new Map<string, Finding>();
  const unmatched: MatchResult["unmatched"] = [];
  for (const pkg of inventory.packages) {
    const ecosystem = osvEcosystemOf(pkg, osEcosystem);
    const comparator = ecosystem === null ? null : comparatorForOsvEcosystem(ecosystem);
    if (ecosystem === null || comparator === null) continue;
    try {
      for (const record of await source.recordsFor(ecosystem, pkg.sourceName)) {
        if (record.withdrawn) continue;
        for (const affected of record.affected ?? []) {
          if (affected.package?.ecosystem !== ecosystem || !sameName(pkg.ecosystem, affected.package.name, pkg.sourceName)) continue;
          if (!isAffected(affected, pkg.sourceVersion, comparator.compare)) continue;
          merge(findings, finding(pkg, ecosystem, record, affected, comparator), comparator);
        }
      }
    } catch (error) {
      if (!(error instanceof InvalidVersionError)) throw error;
      unmatched.push({ package: pkg, reason: error.message });
    }
  }
  return { findings: [...findings.values()], unmatched };
}

function primaryId(record: OsvRecord): string {
  return [record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])].find((id) => id.startsWith("CVE-")) ?? record.id;
}

function finding(pkg: Package, ecosystem: string, record: OsvRecord, affected: OsvAffected, comparator: VersionComparator): Finding {
  const verdict: SeverityVerdict = severityOf(record, affected);
  return {
    id: primaryId(record),
    package: pkg.name,
    version: pkg.version,
    fix_version: fixedVersionFor(affected, pkg.sourceVersion, comparator.compare) ?? "",
    severity: verdict.severity,
    description: record.summary || record.details?.split("\n")[0] || "",
    links: (record.references ?? []).slice(0, 5).map((reference) => reference.url),
    ...(verdict.cvssV3 ? { preferred_cvss: { score_v3: verdict.cvssV3.score, vector_v3: verdict.cvssV3.vector } } : {}),
    vendor_attributes: { ids: [...new Set([record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])])], ecosystem, path: pkg.path, purl: pkg.purl },
  };
}

function merge(findings: Map<string, Finding>, found: Finding, comparator: VersionComparator): void {
  const key = [found.id, found.package, found.version, found.vendor_attributes.path].join("\u0000");
  const earlier = findings.get(key);
  if (!earlier) {
    findings.set(key, found);
    return;
  }
  if (severityRank(found.severity) > severityRank(earlier.severity)) {
    earlier.severity = found.severity;
    earlier.preferred_cvss = found.preferred_cvss;
  }
  if (found.fix_version && (!earlier.fix_version || comparator.compare(found.fix_version, earlier.fix_version) > 0)) earlier.fix_version = found.fix_version;
  earlier.description ||= found.description;
  earlier.links = [...new Set([...earlier.links, ...found.links])].slice(0, 5);
  earlier.vendor_attributes.ids = [...new Set([...earlier.vendor_attributes.ids, ...found.vendor_attributes.ids])];
}

/** Harbor's NativeReportSummary counts: the highest severity (None when nothing was found), totals, fixable. */
export function summarize(findings: Finding[]): { severity: HarborSeverity; total: number; fixable: number; summary: Partial<Record<HarborSeverity, number>> } {
  const summary: Partial<Record<HarborSeverity, number>> = {};
  let severity: HarborSeverity = "None";
  for (const item of findings) {
    summary[item.severity] = (summary[item.severity] ?? 0) + 1;
    if (severity === "None" || severityRank(item.severity) > severityRank(severity)) severity = item.severity;
  }
  return { severity, total: findings.length, fixable: findings.filter((item) => item.fix_version !== "").length, summary };
}
