import type { Ecosystem, Inventory, Package } from "../inventory";
import { comparatorForOsvEcosystem, InvalidVersionError, type VersionComparator } from "../version/index";
import { normalizePythonName } from "../analyzers/python";
import { fixedVersionFor, isAffected } from "./ranges";
import { severityOf, type HarborSeverity, type SeverityVerdict } from "./severity";
import type { OsvRecord } from "./types";

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
 * What one vulnerability says of one package version: the records of one id (its CVE, else the record's own) that
 * cover it, merged: the highest severity any gives, the highest fix any needs, every id they go by.
 */
export interface Advisory {
  id: string;
  fix_version: string;
  severity: HarborSeverity;
  description: string;
  links: string[];
  preferred_cvss?: { score_v3: number; vector_v3: string };
  ids: string[];
}

/** What the records say of one package version: its advisories, and why judging stopped, if it did. */
export interface Judgement {
  advisories: Advisory[];
  invalid?: string;
}

/**
 * A package version as the records are asked about it: the OSV ecosystem it is filed under, the package's own
 * ecosystem (how names compare) and the source package name and version (Debian's source, Alpine's origin).
 */
export interface JudgementSubject {
  osvEcosystem: string;
  ecosystem: Ecosystem;
  name: string;
  version: string;
}

/** A package of an image with the judgement its findings come from (`judgementKey` of its subject). */
export interface JudgedPackage {
  judgement: string;
  /** The OSV ecosystem (the finding's `vendor_attributes.ecosystem`). */
  ecosystem: string;
  name: string;
  version: string;
  path: string;
  purl: string;
}

/** One key per subject, unambiguous whatever characters names and versions hold. */
export function judgementKey(subject: JudgementSubject): string {
  return JSON.stringify([subject.osvEcosystem, subject.ecosystem, subject.name, subject.version]);
}

/** The subject a judgement key names (judgementKey read back). */
export function subjectOfKey(key: string): JudgementSubject {
  const [osvEcosystem, ecosystem, name, version] = JSON.parse(key) as [string, Ecosystem, string, string];
  return { osvEcosystem, ecosystem, name, version };
}

/**
 * Judgements shared by the inventories matched against one load of the records: images built on one base ask the
 * same questions of the same records hundreds of times (re-matching a batch), so each is answered once. Keep one
 * only as long as its source: a new generation needs a new memo.
 */
export type MatchMemo = Map<string, Judgement>;

const YIELD_EVERY_PACKAGES = 100;

/**
 * Matching runs on the thread that answers requests, over hundreds of packages: every so many (`index` counts them)
 * it lets pushes in.
 */
export async function letRequestsIn(index: number): Promise<void> {
  if (index > 0 && index % YIELD_EVERY_PACKAGES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface MatchResult {
  findings: Finding[];
  /** Packages matching could not judge (a version their ecosystem's ordering cannot read), with the reason. */
  unmatched: { package: Package; reason: string }[];
  /** The packages matching judged (one per name, version and path), each naming its judgement. */
  packages: JudgedPackage[];
  /** The judgements of those packages, by key. */
  judgements: Map<string, Judgement>;
}

/**
 * Every vulnerability the records of `source` give the inventory's packages. Debian packages are looked up by
 * source package and source version, Alpine's by origin (Package.sourceName/sourceVersion); the finding names the
 * installed package, as Trivy and Harbor show it. Records for the same CVE collapse into one finding per package
 * (all their ids kept); the severity is the highest any gives and the fix version the highest any needs.
 */
export async function matchInventory(inventory: Inventory, osEcosystem: string | null, source: VulnerabilitySource, memo: MatchMemo = new Map()): Promise<MatchResult> {
  const result: MatchResult = { findings: [], unmatched: [], packages: [], judgements: new Map() };
  for (const [index, { pkg, judged, subject }] of judgedPackages(inventory, osEcosystem).entries()) {
    await letRequestsIn(index);
    let judgement = memo.get(judged.judgement);
    if (!judgement) {
      judgement = await judge(subject, source);
      memo.set(judged.judgement, judgement);
    }
    result.judgements.set(judged.judgement, judgement);
    result.packages.push(judged);
    for (const advisory of judgement.advisories) result.findings.push(findingOf(judged, advisory));
    if (judgement.invalid !== undefined) result.unmatched.push({ package: pkg, reason: judgement.invalid });
  }
  return result;
}

/**
 * The packages of an inventory that matching judges: those of an ecosystem with a version ordering, OS packages only
 * in the image's release, and one per name, version and path (the same package found twice is one package). Each
 * comes with the subject its judgement is of and that judgement's key.
 */
export function judgedPackages(inventory: Inventory, osEcosystem: string | null): Array<{ pkg: Package; judged: JudgedPackage; subject: JudgementSubject }> {
  const seen = new Set<string>();
  const found: Array<{ pkg: Package; judged: JudgedPackage; subject: JudgementSubject }> = [];
  for (const pkg of inventory.packages) {
    const ecosystem = osvEcosystemOf(pkg, osEcosystem);
    if (ecosystem === null || comparatorForOsvEcosystem(ecosystem) === null) continue;
    const identity = JSON.stringify([pkg.name, pkg.version, pkg.path]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    const subject = { osvEcosystem: ecosystem, ecosystem: pkg.ecosystem, name: pkg.sourceName, version: pkg.sourceVersion };
    found.push({ pkg, subject, judged: { judgement: judgementKey(subject), ecosystem, name: pkg.name, version: pkg.version, path: pkg.path, purl: pkg.purl } });
  }
  return found;
}

/**
 * The records' entries that cover a package version (up to a version its ordering cannot read), merged into one
 * advisory per id. A subject whose ecosystem has no ordering is covered by nothing.
 */
export async function judge(subject: JudgementSubject, source: VulnerabilitySource): Promise<Judgement> {
  const comparator = comparatorForOsvEcosystem(subject.osvEcosystem);
  const advisories = new Map<string, Advisory>();
  if (comparator === null) return { advisories: [] };
  try {
    for (const record of await source.recordsFor(subject.osvEcosystem, subject.name)) {
      if (record.withdrawn) continue;
      for (const affected of record.affected ?? []) {
        if (affected.package?.ecosystem !== subject.osvEcosystem || !sameName(subject.ecosystem, affected.package.name, subject.name)) continue;
        if (!isAffected(affected, subject.version, comparator.compare)) continue;
        const fixVersion = fixedVersionFor(affected, subject.version, comparator.compare) ?? "";
        merge(advisories, advisoryOf(record, fixVersion, severityOf(record, affected)), comparator);
      }
    }
  } catch (error) {
    if (!(error instanceof InvalidVersionError)) throw error;
    return { advisories: [...advisories.values()], invalid: error.message };
  }
  return { advisories: [...advisories.values()] };
}

function primaryId(record: OsvRecord): string {
  return [record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])].find((id) => id.startsWith("CVE-")) ?? record.id;
}

function advisoryOf(record: OsvRecord, fixVersion: string, verdict: SeverityVerdict): Advisory {
  return {
    id: primaryId(record),
    fix_version: fixVersion,
    severity: verdict.severity,
    description: record.summary || record.details?.split("\n")[0] || "",
    links: (record.references ?? []).slice(0, 5).map((reference) => reference.url),
    ...(verdict.cvssV3 ? { preferred_cvss: { score_v3: verdict.cvssV3.score, vector_v3: verdict.cvssV3.vector } } : {}),
    ids: [...new Set([record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])])],
  };
}

function merge(advisories: Map<string, Advisory>, found: Advisory, comparator: VersionComparator): void {
  const earlier = advisories.get(found.id);
  if (!earlier) {
    advisories.set(found.id, found);
    return;
  }
  if (severityRank(found.severity) > severityRank(earlier.severity)) {
    earlier.severity = found.severity;
    earlier.preferred_cvss = found.preferred_cvss;
  }
  if (found.fix_version && (!earlier.fix_version || comparator.compare(found.fix_version, earlier.fix_version) > 0)) earlier.fix_version = found.fix_version;
  earlier.description ||= found.description;
  earlier.links = [...new Set([...earlier.links, ...found.links])].slice(0, 5);
  earlier.ids = [...new Set([...earlier.ids, ...found.ids])];
}

/** The finding of one advisory on one package: objects of its own (findings of a shared judgement never alias). */
export function findingOf(pkg: Omit<JudgedPackage, "judgement">, advisory: Advisory): Finding {
  return {
    id: advisory.id,
    package: pkg.name,
    version: pkg.version,
    fix_version: advisory.fix_version,
    severity: advisory.severity,
    description: advisory.description,
    links: [...advisory.links],
    ...(advisory.preferred_cvss ? { preferred_cvss: { ...advisory.preferred_cvss } } : {}),
    vendor_attributes: { ids: [...advisory.ids], ecosystem: pkg.ecosystem, path: pkg.path, purl: pkg.purl },
  };
}

/** Harbor's NativeReportSummary counts: the highest severity (None when nothing was found), totals, fixable. */
export interface SeverityCounts {
  severity: HarborSeverity;
  total: number;
  fixable: number;
  summary: Partial<Record<HarborSeverity, number>>;
}

export function summarize(findings: Finding[]): SeverityCounts {
  return summarizeGroups(findings.map((item) => ({ severity: item.severity, total: 1, fixable: item.fix_version !== "" ? 1 : 0 })));
}

/** The same counts from findings already counted per severity (as the database counts stored findings). */
export function summarizeGroups(groups: Array<{ severity: HarborSeverity; total: number; fixable: number }>): SeverityCounts {
  const counts: SeverityCounts = { severity: "None", total: 0, fixable: 0, summary: {} };
  for (const group of groups) {
    if (group.total === 0) continue;
    counts.summary[group.severity] = (counts.summary[group.severity] ?? 0) + group.total;
    counts.total += group.total;
    counts.fixable += group.fixable;
    if (counts.severity === "None" || severityRank(group.severity) > severityRank(counts.severity)) counts.severity = group.severity;
  }
  return counts;
}
