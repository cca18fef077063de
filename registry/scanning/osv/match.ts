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

/** One `affected[]` entry of a record that covers a package version, with what a finding takes from it. */
interface Hit {
  record: OsvRecord;
  affected: OsvAffected;
  fixVersion: string;
  verdict: SeverityVerdict;
}

/** What the records say of one package version: the entries that cover it, and why judging stopped, if it did. */
interface Judgement {
  hits: Hit[];
  invalid?: string;
}

/**
 * Judgements shared by the inventories matched against one load of the records: images built on one base ask the
 * same questions of the same records hundreds of times (re-matching a batch), so each is answered once. Keep one
 * only as long as its source: a new generation needs a new memo.
 */
export type MatchMemo = Map<string, Judgement>;

const YIELD_EVERY_PACKAGES = 100;

/**
 * Every vulnerability the records of `source` give the inventory's packages. Debian packages are looked up by
 * source package and source version, Alpine's by origin (Package.sourceName/sourceVersion); the finding names the
 * installed package, as Trivy and Harbor show it. Records for the same CVE collapse into one finding per package
 * (all their ids kept); the severity is the highest any gives and the fix version the highest any needs.
 */
export async function matchInventory(inventory: Inventory, osEcosystem: string | null, source: VulnerabilitySource, memo: MatchMemo = new Map()): Promise<MatchResult> {
  const findings = new Map<string, Finding>();
  const unmatched: MatchResult["unmatched"] = [];
  for (const [index, pkg] of inventory.packages.entries()) {
    // Matching runs on the thread that answers requests, and an image has hundreds of packages: let pushes in between.
    if (index > 0 && index % YIELD_EVERY_PACKAGES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const ecosystem = osvEcosystemOf(pkg, osEcosystem);
    const comparator = ecosystem === null ? null : comparatorForOsvEcosystem(ecosystem);
    if (ecosystem === null || comparator === null) continue;
    const key = [ecosystem, pkg.ecosystem, pkg.sourceName, pkg.sourceVersion].join("\u0000");
    let judgement = memo.get(key);
    if (!judgement) {
      judgement = await judge(pkg, ecosystem, comparator, source);
      memo.set(key, judgement);
    }
    for (const hit of judgement.hits) merge(findings, finding(pkg, ecosystem, hit), comparator);
    if (judgement.invalid !== undefined) unmatched.push({ package: pkg, reason: judgement.invalid });
  }
  return { findings: [...findings.values()], unmatched };
}

/** The records' entries that cover the package's source version (up to a version its ordering cannot read). */
async function judge(pkg: Package, ecosystem: string, comparator: VersionComparator, source: VulnerabilitySource): Promise<Judgement> {
  const hits: Hit[] = [];
  try {
    for (const record of await source.recordsFor(ecosystem, pkg.sourceName)) {
      if (record.withdrawn) continue;
      for (const affected of record.affected ?? []) {
        if (affected.package?.ecosystem !== ecosystem || !sameName(pkg.ecosystem, affected.package.name, pkg.sourceName)) continue;
        if (!isAffected(affected, pkg.sourceVersion, comparator.compare)) continue;
        const fixVersion = fixedVersionFor(affected, pkg.sourceVersion, comparator.compare) ?? "";
        hits.push({ record, affected, fixVersion, verdict: severityOf(record, affected) });
      }
    }
  } catch (error) {
    if (!(error instanceof InvalidVersionError)) throw error;
    return { hits, invalid: error.message };
  }
  return { hits };
}

function primaryId(record: OsvRecord): string {
  return [record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])].find((id) => id.startsWith("CVE-")) ?? record.id;
}

function finding(pkg: Package, ecosystem: string, { record, fixVersion, verdict }: Hit): Finding {
  return {
    id: primaryId(record),
    package: pkg.name,
    version: pkg.version,
    fix_version: fixVersion,
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
