import type { OsvAffected, OsvRecord, OsvSeverity } from "./types";

/** Harbor's severity words (src/pkg/scan/vuln/severity.go). */
export type HarborSeverity = "Critical" | "High" | "Medium" | "Low" | "Negligible" | "None" | "Unknown";

export interface SeverityVerdict {
  severity: HarborSeverity;
  /** Where the verdict came from, for the report's vendor attributes. */
  source: "cvss_v3" | "text" | "none";
  /** The CVSS v3 vector and its base score, when one decided the severity (Harbor's preferred_cvss). */
  cvssV3?: { vector: string; score: number };
}

// CVSS v3.1 specification, section 7.4 (the same weights as 3.0).
const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;
const PRIVILEGES = { U: { N: 0.85, L: 0.62, H: 0.27 }, C: { N: 0.85, L: 0.68, H: 0.5 } } as const;

const BASE_VALUES: Record<string, readonly string[]> = {
  AV: ["N", "A", "L", "P"],
  AC: ["L", "H"],
  PR: ["N", "L", "H"],
  UI: ["N", "R"],
  S: ["U", "C"],
  C: ["H", "L", "N"],
  I: ["H", "L", "N"],
  A: ["H", "L", "N"],
};
// Temporal and environmental metrics may follow the base metrics; they do not change the base score.
const OTHER_METRICS = new Set(["E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"]);

/** CVSS 3.1's Roundup: the smallest one-decimal number ≥ x, computed on integers to avoid float artefacts. */
function roundUp(x: number): number {
  const scaled = Math.round(x * 100000);
  return scaled % 10000 === 0 ? scaled / 100000 : (Math.floor(scaled / 10000) + 1) / 10;
}

/**
 * The base score of a CVSS v3.0 or v3.1 vector ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" → 9.8), or null when
 * the string is not a complete, well-formed v3 vector. 3.0 vectors are scored with 3.1's Roundup, which the 3.1
 * specification introduced to give 3.0's intended results without floating-point errors.
 */
export function cvss3BaseScore(vector: string): number | null {
  const [prefix, ...parts] = vector.trim().split("/");
  if (prefix !== "CVSS:3.0" && prefix !== "CVSS:3.1") return null;
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(":");
    if (value === undefined || extra !== undefined || metrics.has(key)) return null;
    if (key in BASE_VALUES ? !BASE_VALUES[key].includes(value) : !OTHER_METRICS.has(key)) return null;
    metrics.set(key, value);
  }
  if (Object.keys(BASE_VALUES).some((key) => !metrics.has(key))) return null;
  const m = (key: string) => metrics.get(key) as string;

  const scope = m("S") as "U" | "C";
  const cia = (key: string) => WEIGHTS.CIA[m(key) as keyof typeof WEIGHTS.CIA];
  const iss = 1 - (1 - cia("C")) * (1 - cia("I")) * (1 - cia("A"));
  const impact = scope === "U" ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15);
  const exploitability =
    8.22 *
    WEIGHTS.AV[m("AV") as keyof typeof WEIGHTS.AV] *
    WEIGHTS.AC[m("AC") as keyof typeof WEIGHTS.AC] *
    PRIVILEGES[scope][m("PR") as "N" | "L" | "H"] *
    WEIGHTS.UI[m("UI") as keyof typeof WEIGHTS.UI];
  if (impact <= 0) return 0;
  return scope === "U"
    ? roundUp(Math.min(impact + exploitability, 10))
    : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

/** CVSS v3 qualitative ratings: 0 None, 0.1–3.9 Low, 4.0–6.9 Medium, 7.0–8.9 High, 9.0–10 Critical. */
export function severityForScore(score: number): HarborSeverity {
  if (score >= 9) return "Critical";
  if (score >= 7) return "High";
  if (score >= 4) return "Medium";
  if (score > 0) return "Low";
  return "None";
}

// Words seen in OSV sources: GHSA database_specific.severity (LOW, MODERATE, HIGH, CRITICAL), Debian tracker urgency
// (unimportant, low, medium, high; "**" or "*" marks an unconfirmed value), Ubuntu priorities (negligible … critical),
// Red Hat impact (Low, Moderate, Important, Critical). Anything else ("not yet assigned", "untriaged") says nothing.
const WORDS: Record<string, HarborSeverity> = {
  critical: "Critical",
  important: "High",
  high: "High",
  moderate: "Medium",
  medium: "Medium",
  low: "Low",
  negligible: "Negligible",
  unimportant: "Negligible",
};

export function severityForWord(word: string): HarborSeverity | null {
  return WORDS[word.trim().replace(/\*+$/, "").trim().toLowerCase()] ?? null;
}

function cvssFrom(entries: OsvSeverity[] | undefined): SeverityVerdict | null {
  for (const entry of entries ?? []) {
    if (entry.type !== "CVSS_V3") continue;
    const score = cvss3BaseScore(entry.score);
    if (score !== null) return { severity: severityForScore(score), source: "cvss_v3", cvssV3: { vector: entry.score, score } };
  }
  return null;
}

function wordFrom(fields: Array<Record<string, unknown> | undefined>, entries: OsvSeverity[] | undefined): HarborSeverity | null {
  for (const field of fields) {
    for (const key of ["severity", "urgency"]) {
      const value = field?.[key];
      const severity = typeof value === "string" ? severityForWord(value) : null;
      if (severity !== null) return severity;
    }
  }
  for (const entry of entries ?? []) {
    const severity = entry.type === "Ubuntu" ? severityForWord(entry.score) : null;
    if (severity !== null) return severity;
  }
  return null;
}

/**
 * The severity Harbor shows for one record as it affects one package: a CVSS v3 base score (the package's own
 * severity entries before the record's), else a severity word from the package's ecosystem_specific or
 * database_specific, the record's database_specific or an Ubuntu priority, else Unknown. CVSS v2 and v4 vectors are
 * not scored.
 */
export function severityOf(record: OsvRecord, affected?: OsvAffected): SeverityVerdict {
  const cvss = cvssFrom(affected?.severity) ?? cvssFrom(record.severity);
  if (cvss !== null) return cvss;
  const word = wordFrom(
    [affected?.ecosystem_specific, affected?.database_specific, record.database_specific],
    [...(affected?.severity ?? []), ...(record.severity ?? [])],
  );
  return word !== null ? { severity: word, source: "text" } : { severity: "Unknown", source: "none" };
}
