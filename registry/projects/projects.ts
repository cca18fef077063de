import { projectUsageSql } from "../quotas/quotas";
import type { PrincipalGroup } from "../auth/principal";
import { ROLES, type RoleId } from "../auth/rbac";
import { groupIdsMatching, groupKeys } from "../groups/user-groups";
import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { Queryable } from "../db/sql";

export interface ProjectRow {
  id: number;
  name: string;
  owner_id: number | null;
  owner_name: string | null;
  metadata: Record<string, string>;
  registry_id: number;
  /** Bytes; -1 = unlimited. */
  storage_limit: number;
  created_at: Date;
  updated_at: Date;
  repo_count: number;
  /** The project's own CVE allowlist, when one was written. */
  cve_allowlist: { id: number; items: { cve_id: string }[]; expires_at: number | null; creation_time: Date; update_time: Date } | null;
}

// Harbor's project name rule (src/pkg/project/manager.go): lowercase alnum with single . _ - separators.
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function isValidProjectName(name: string): boolean {
  return name.length >= 1 && name.length <= 255 && PROJECT_NAME.test(name);
}

export function isPublic(project: Pick<ProjectRow, "metadata">): boolean {
  return project.metadata.public === "true";
}

const FROM_PROJECTS = "FROM projects p LEFT JOIN users u ON u.id = p.owner_id";

// A repository counts once it holds a manifest; rows created by an abandoned upload do not.
const SELECT_PROJECT = `
  SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.metadata, p.registry_id, p.storage_limit,
         p.created_at, p.updated_at,
         (SELECT count(*) FROM repositories r
           WHERE r.project_id = p.id AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id))::int AS repo_count,
         (SELECT jsonb_build_object('id', a.id, 'items', a.items, 'expires_at', a.expires_at, 'creation_time', a.created_at, 'update_time', a.updated_at)
            FROM cve_allowlists a WHERE a.project_id = p.id) AS cve_allowlist
    ${FROM_PROJECTS}`;

/** The SQL behind each key a listing filters on (Harbor's q= keys and the name/public/owner parameters). */
export const PROJECT_COLUMNS = {
  name: "p.name",
  project_id: "p.id",
  public: "(p.metadata->>'public')",
  owner: "u.username",
  creation_time: "p.created_at",
  update_time: "p.updated_at",
} as const;
/** How `q=` ranges over PROJECT_COLUMNS are read (the others compare as text). */
export const PROJECT_RANGE_KINDS = { project_id: "integer", creation_time: "time", update_time: "time" } as const;

const SORT_COLUMNS = {
  name: PROJECT_COLUMNS.name,
  project_id: PROJECT_COLUMNS.project_id,
  creation_time: PROJECT_COLUMNS.creation_time,
  update_time: PROJECT_COLUMNS.update_time,
} as const;
export type ProjectSortKey = keyof typeof SORT_COLUMNS;
export const PROJECT_SORT_KEYS = Object.keys(SORT_COLUMNS) as ProjectSortKey[];
export interface ProjectOrder {
  key: ProjectSortKey;
  descending: boolean;
}

/** Conditions over PROJECT_COLUMNS with their $n parameters, numbered from $1. */
export interface ProjectFilter {
  conditions: string[];
  params: unknown[];
}

/** How many members hold each role; every role is present. */
export type RoleCounts = Record<RoleId, number>;

/**
 * Which projects a listing shows: every one, the public ones, or the public ones plus those a user is a member of
 * or a robot holds grants in.
 */
/** `groups`: the user's groups (LDAP/OIDC sign-ins), whose memberships also make projects visible. */
export type Visibility = "public" | { all: true } | { userId: number; groups?: readonly PrincipalGroup[] } | { projectIds: number[] };

/** The few columns a permission check needs, without ProjectRow's counts (the hot path of every /v2 request). */
export type ProjectRef = Pick<ProjectRow, "id" | "name" | "metadata" | "registry_id">;

export class ProjectStore {
  private readonly refs = new ReadCache<ProjectRef>({ max: 1000, ttlMs: CACHE_TTL_MS });

  constructor(private readonly db: Queryable) {}

  findRefByName(name: string): Promise<ProjectRef | null> {
    return this.refs.get(name, async () => {
      const [row] = await this.db.query<ProjectRef>("SELECT id, name, metadata, registry_id FROM projects WHERE name = $1", [name]);
      return row ?? null;
    });
  }

  async findByName(name: string, db: Queryable = this.db): Promise<ProjectRow | null> {
    const [row] = await db.query<ProjectRow>(`${SELECT_PROJECT} WHERE p.name = $1`, [name]);
    return row ?? null;
  }

  async findById(id: number): Promise<ProjectRow | null> {
    const [row] = await this.db.query<ProjectRow>(`${SELECT_PROJECT} WHERE p.id = $1`, [id]);
    return row ?? null;
  }

  /** Creates a project; null when the name is taken. */
  async create(
    input: { name: string; ownerId: number | null; metadata: Record<string, string>; storageLimit: number; registryId?: number },
    db: Queryable = this.db,
  ): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO projects (name, owner_id, metadata, storage_limit, registry_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [input.name, input.ownerId, JSON.stringify(input.metadata), input.storageLimit, input.registryId ?? 0],
    );
    return rows[0]?.id ?? null;
  }

  /** A page of the projects `visibleTo` sees that match `filter`, in `order` (by name when none is given). */
  async list(options: { visibleTo: Visibility; filter?: ProjectFilter; order?: ProjectOrder[]; limit: number; offset: number }): Promise<{
    rows: ProjectRow[];
    total: number;
  }> {
    const params = [...(options.filter?.params ?? [])];
    const where = [...(options.filter?.conditions ?? []), ...visibilityConditions(options.visibleTo, params)];
    const clause = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total ${FROM_PROJECTS}${clause}`, params);
    // The page is chosen first and only its rows are counted (repositories, allowlist): PostgreSQL computes the
    // select list of the rows an OFFSET skips too, so page 10 of 100 counted the repositories of 1 000 projects.
    const order = orderBy(options.order ?? []);
    const rows = await this.db.query<ProjectRow>(
      `${SELECT_PROJECT} WHERE p.id IN (SELECT p.id ${FROM_PROJECTS}${clause} ORDER BY ${order} LIMIT ${options.limit} OFFSET ${options.offset}) ORDER BY ${order}`,
      params,
    );
    return { rows, total };
  }

  /** Merges `patch` into the project's metadata (keys it omits stay); false when the project is gone. */
  mergeMetadata(id: number, patch: Record<string, string>, db: Queryable): Promise<boolean> {
    return this.writeMetadata(db, id, "metadata || $2::jsonb", "", [JSON.stringify(patch)]);
  }

  /** Adds one metadata key; false when the project already has it (or is gone). */
  addMetadataKey(id: number, key: string, value: string, db: Queryable): Promise<boolean> {
    return this.writeMetadata(db, id, "metadata || jsonb_build_object($2::text, $3::text)", " AND metadata->$2::text IS NULL", [key, value]);
  }

  /** Replaces the value of one metadata key; false when the project does not have it. */
  replaceMetadataKey(id: number, key: string, value: string, db: Queryable): Promise<boolean> {
    return this.writeMetadata(db, id, "metadata || jsonb_build_object($2::text, $3::text)", " AND metadata->$2::text IS NOT NULL", [key, value]);
  }

  /** Removes one metadata key; `public` cannot be absent, so removing it makes the project private. */
  removeMetadataKey(id: number, key: string, db: Queryable): Promise<boolean> {
    const value = key === "public" ? `metadata || '{"public":"false"}'::jsonb` : "metadata - $2::text";
    return this.writeMetadata(db, id, value, " AND metadata->$2::text IS NOT NULL", [key]);
  }

  private async writeMetadata(db: Queryable, id: number, value: string, condition: string, params: unknown[]): Promise<boolean> {
    const rows = await db.query(
      `UPDATE projects SET metadata = ${value}, updated_at = now() WHERE id = $1${condition} RETURNING id`,
      [id, ...params],
    );
    return rows.length > 0;
  }

  /**
   * Makes this node's permission checks read the project afresh after a change to it has committed (other nodes
   * see it when their cached copy expires, see ReadCache). Forgetting before the commit would not do: a check
   * running meanwhile could cache the old row again.
   */
  forgetRef(name: string): void {
    this.refs.delete(name);
  }

  /** How many members (users and groups) hold each role in the project. */
  async roleCounts(id: number): Promise<RoleCounts> {
    const rows = await this.db.query<{ role_id: RoleId; count: number }>(
      "SELECT role_id, count(*)::int AS count FROM project_members WHERE project_id = $1 GROUP BY role_id",
      [id],
    );
    const counts = Object.fromEntries(Object.values(ROLES).map((role) => [role, 0])) as RoleCounts;
    for (const row of rows) counts[row.role_id] = row.count;
    return counts;
  }

  /** Bytes the project stores, as its quota counts them (see projectUsageSql). */
  async usedStorage(id: number): Promise<number> {
    const [row] = await this.db.query<{ used: number }>(`SELECT ${projectUsageSql("$1")} AS used`, [id]);
    return row.used;
  }

  /** Names of the proxy cache projects of registry endpoint `registryId`. */
  async proxying(registryId: number): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>("SELECT name FROM projects WHERE registry_id = $1 ORDER BY name", [registryId]);
    return rows.map((r) => `project ${r.name}`);
  }

  /** Deletes a project with no repositories. Returns false when it still has some. Call forgetRef after the commit. */
  async deleteIfEmpty(id: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      `DELETE FROM projects p WHERE p.id = $1 AND NOT EXISTS (
         SELECT 1 FROM repositories r JOIN manifests m ON m.repository_id = r.id WHERE r.project_id = p.id)
       RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }
}

/** What a caller may list: its conditions, with their parameters appended to `params`. */
function visibilityConditions(visible: Visibility, params: unknown[]): string[] {
  if (visible === "public") return [`p.metadata->>'public' = 'true'`];
  if ("userId" in visible) {
    params.push(visible.userId);
    const own = `(m.entity_type = 'u' AND m.entity_id = $${params.length})`;
    const { dns, names } = groupKeys(visible.groups ?? []);
    let viaGroups = "";
    if (dns.length > 0 || names.length > 0) {
      params.push(dns, names);
      viaGroups = ` OR (m.entity_type = 'g' AND m.entity_id IN (${groupIdsMatching(`$${params.length - 1}`, `$${params.length}`)}))`;
    }
    return [`(p.metadata->>'public' = 'true' OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND (${own}${viaGroups})))`];
  }
  if ("projectIds" in visible) {
    params.push(visible.projectIds);
    return [`(p.metadata->>'public' = 'true' OR p.id = ANY($${params.length}::int[]))`];
  }
  return [];
}

// The id breaks ties so that pages neither repeat nor skip rows with equal sort values.
function orderBy(order: ProjectOrder[]): string {
  const keys = order.length ? order : [{ key: "name" as const, descending: false }];
  return [...keys.map((o) => `${SORT_COLUMNS[o.key]}${o.descending ? " DESC" : ""}`), "p.id"].join(", ");
}
