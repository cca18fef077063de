/**
 * The parts of an OSV record (ossf/osv-schema docs/schema.md, schema 1.x) the scanner reads. Field names and shapes
 * follow the schema exactly, so records parsed from osv.dev dumps fit without conversion; optional fields are
 * optional here as they are there. Newer 1.x schema versions only add fields.
 */
export interface OsvRecord {
  /** Assume "1.0.0" when absent. */
  schema_version?: string;
  /** e.g. "DSA-5573-1", "DEBIAN-CVE-2023-4911", "GHSA-…", "ALPINE-CVE-…"; `x_` prefixes are for local records. */
  id: string;
  /** RFC 3339 time of the last change. */
  modified: string;
  published?: string;
  /** Set when the record was retracted: skip it. */
  withdrawn?: string;
  /** Ids of the same vulnerability elsewhere (CVE-…, GHSA-…). */
  aliases?: string[];
  /** Ids of the upstream vulnerabilities this record is derived from (Alpine and Debian records use it for CVEs). */
  upstream?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: OsvReference[];
  credits?: OsvCredit[];
  database_specific?: Record<string, unknown>;
}

/** CVSS_V2, CVSS_V3 and CVSS_V4 carry a vector string in `score`; Ubuntu carries a priority word. */
export type OsvSeverityType = "CVSS_V2" | "CVSS_V3" | "CVSS_V4" | "Ubuntu";

export interface OsvSeverity {
  /** One of OsvSeverityType; kept open because newer schema versions may add types. */
  type: OsvSeverityType | (string & {});
  score: string;
}

export interface OsvPackage {
  /** "Debian:12", "Alpine:v3.20", "npm", "PyPI", "Go", "Maven", "Red Hat:…", … */
  ecosystem: string;
  /** Debian/Ubuntu: the source package; Alpine: the origin; PyPI: the PEP 503-normalised name. */
  name: string;
  purl?: string;
}

export interface OsvAffected {
  /** Optional in the schema: an entry may describe only GIT ranges of a repository. */
  package?: OsvPackage;
  /** Per-package severity; when present it applies instead of the record's. */
  severity?: OsvSeverity[];
  ranges?: OsvRange[];
  /** Exact versions that are affected, in the ecosystem's own spelling. */
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

/**
 * SEMVER: SemVer 2.0 precedence, versions without a leading `v`. ECOSYSTEM: the package ecosystem's ordering.
 * GIT: commit hashes in `repo`, which the scanner cannot place and ignores.
 */
export type OsvRangeType = "SEMVER" | "ECOSYSTEM" | "GIT";

export interface OsvRange {
  type: OsvRangeType;
  /** Required for GIT ranges. */
  repo?: string;
  /** At least one `introduced`; `fixed` and `last_affected` are never both in one range. */
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

/**
 * One event; exactly one of the keys is present. `introduced: "0"` means "from the first version";
 * `limit: "*"` (the implicit limit when none is given) means "no upper limit".
 */
export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvReference {
  /** ADVISORY, ARTICLE, DETECTION, DISCUSSION, REPORT, FIX, INTRODUCED, PACKAGE, EVIDENCE, WEB */
  type: string;
  url: string;
}

export interface OsvCredit {
  name: string;
  contact?: string[];
  type?: string;
}
