import type { Queryable } from "../db/sql";
import type { CveAllowlist } from "./report/pull-policy";

/** Harbor's CVEAllowlist as the API shows it; project_id 0 is the system's list. */
export interface CveAllowlistView {
  id: number;
  project_id: number;
  expires_at: number | null;
  items: { cve_id: string }[];
  creation_time: Date;
  update_time: Date;
}

interface AllowlistRow {
  id: number;
  project_id: number | null;
  items: { cve_id: string }[];
  expires_at: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The most ids one allowlist holds (Harbor sets no bound; one keeps a list from growing without end). */
export const MAX_ALLOWLIST_ITEMS = 10_000;

const CVE_ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/;

/**
 * An allowlist from an API body: `{items: [{cve_id}], expires_at?}`; the problem in words, or the list. Ids are kept
 * upper-case and once each; any vulnerability id form is accepted (CVE-…, GHSA-…, DSA-…), as Harbor does.
 */
export function parseAllowlist(body: unknown): CveAllowlist | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the CVE allowlist must be an object";
  const { items, expires_at: expiresAt } = body as { items?: unknown; expires_at?: unknown };
  if (items !== undefined && items !== null && !Array.isArray(items)) return "items must be an array of {cve_id}";
  if (expiresAt !== undefined && expiresAt !== null && (typeof expiresAt !== "number" || !Number.isSafeInteger(expiresAt) || expiresAt < 0)) {
    return "expires_at must be a unix time in seconds, or null (never)";
  }
  const ids = new Set<string>();
  for (const item of (items ?? []) as unknown[]) {
    const id = typeof item === "object" && item !== null ? (item as { cve_id?: unknown }).cve_id : undefined;
    if (typeof id !== "string" || !CVE_ID.test(id.trim())) return `every item needs a cve_id such as CVE-2024-1234; got ${JSON.stringify(id ?? item)?.slice(0, 100)}`;
    ids.add(id.trim().toUpperCase());
  }
  if (ids.size > MAX_ALLOWLIST_ITEMS) return `a CVE allowlist holds at most ${MAX_ALLOWLIST_ITEMS} ids`;
  return { items: [...ids].map((cve_id) => ({ cve_id })), expires_at: (expiresAt as number | null | undefined) ?? null };
}

/** The system's and the projects' CVE allowlists. */
export class CveAllowlists {
  constructor(private readonly db: Queryable) {}

  /** The list of a project, or the system's (null); an empty, never-expiring one when none was written. */
  async get(projectId: number | null, db: Queryable = this.db): Promise<CveAllowlistView> {
    const [row] = await db.query<AllowlistRow>("SELECT * FROM cve_allowlists WHERE coalesce(project_id, 0) = $1", [projectId ?? 0]);
    if (!row) return { id: 0, project_id: projectId ?? 0, expires_at: null, items: [], creation_time: new Date(0), update_time: new Date(0) };
    return {
      id: row.id,
      project_id: row.project_id ?? 0,
      expires_at: row.expires_at === null ? null : Number(row.expires_at),
      items: row.items,
      creation_time: row.created_at,
      update_time: row.updated_at,
    };
  }

  /** Replaces a list whole; true when it changed. */
  async put(projectId: number | null, list: CveAllowlist, db: Queryable = this.db): Promise<boolean> {
    const before = await this.get(projectId, db);
    const same = before.expires_at === (list.expires_at ?? null) && JSON.stringify(before.items) === JSON.stringify(list.items);
    if (same) return false;
    await db.query(
      `INSERT INTO cve_allowlists (project_id, items, expires_at) VALUES ($1, $2::jsonb, $3)
       ON CONFLICT (coalesce(project_id, 0)) DO UPDATE SET items = EXCLUDED.items, expires_at = EXCLUDED.expires_at, updated_at = now()`,
      [projectId, JSON.stringify(list.items), list.expires_at ?? null],
    );
    return true;
  }

  /**
   * The lists that apply to pulls from a project: the system's when the project reuses it (Harbor's default, and
   * when `reuse_sys_cve_allowlist` is unset), else the project's own.
   */
  async effective(projectId: number, metadata: Record<string, string>): Promise<CveAllowlist[]> {
    const own = metadata.reuse_sys_cve_allowlist === "false";
    const list = await this.get(own ? projectId : null);
    return [{ items: list.items, expires_at: list.expires_at }];
  }
}
