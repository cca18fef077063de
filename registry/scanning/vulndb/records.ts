import { normalizePythonName } from "../analyzers/python";
import type { OsvRecord } from "../osv/types";

/** Where matching looks a record up: an OSV ecosystem string exactly as OSV spells it, and a package name. */
export interface PackageKey {
  ecosystem: string;
  name: string;
}

/** A record that can be stored, with the packages it affects; or why it cannot. */
export type CheckedRecord = { ok: true; record: OsvRecord; modified: Date; keys: PackageKey[] } | { ok: false; id: string | null; reason: string };

const MAX_ID_LENGTH = 255;

/** The name as the index stores it: PyPI names PEP 503-normalised (OSV spells them as their projects do), others as given. */
export function indexedName(ecosystem: string, name: string): string {
  return ecosystem === "PyPI" ? normalizePythonName(name) : name;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks the fields the database and matching rely on (id, modified, the shape of `affected`); other fields are
 * kept as they are, so records of newer schema versions import unchanged.
 */
export function checkRecord(value: unknown): CheckedRecord {
  if (!isObject(value)) return { ok: false, id: null, reason: "not a JSON object" };
  const id = typeof value.id === "string" && value.id !== "" ? value.id : null;
  if (id === null) return { ok: false, id: null, reason: "id is missing or not a string" };
  if (id.length > MAX_ID_LENGTH) return { ok: false, id: id.slice(0, 40), reason: `id is longer than ${MAX_ID_LENGTH} characters` };
  if (typeof value.modified !== "string") return { ok: false, id, reason: "modified is missing or not a string" };
  const modified = new Date(value.modified);
  if (Number.isNaN(modified.getTime())) return { ok: false, id, reason: `modified is not an RFC 3339 time: ${JSON.stringify(value.modified).slice(0, 60)}` };
  if (value.affected !== undefined && !Array.isArray(value.affected)) return { ok: false, id, reason: "affected is not an array" };
  const keys = new Map<string, PackageKey>();
  for (const affected of (value.affected ?? []) as unknown[]) {
    if (!isObject(affected)) return { ok: false, id, reason: "an affected entry is not an object" };
    if (affected.package === undefined) continue; // GIT-only entries name no package
    const pkg = affected.package;
    if (!isObject(pkg) || typeof pkg.ecosystem !== "string" || typeof pkg.name !== "string") {
      return { ok: false, id, reason: "an affected package lacks a string ecosystem or name" };
    }
    const key = { ecosystem: pkg.ecosystem, name: indexedName(pkg.ecosystem, pkg.name) };
    keys.set(`${key.ecosystem}\u0000${key.name}`, key);
  }
  return { ok: true, record: value as unknown as OsvRecord, modified, keys: [...keys.values()] };
}
