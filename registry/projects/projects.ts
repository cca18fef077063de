import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { Queryable } from "../db/sql";

export interface ProjectRow {
  id: number;
  name: string;
  owner_id: number | null;
  owner_name: string | null;
  metadata: Record<string, string>;
  registry_id: number;
  created_at: Date;
  updated_at: Date;
  repo_count: number;
}

// Harbor's project name rule (src/pkg/project/manager.go): lowercase alnum with single . _ - separators.
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function isValidProjectName(name: string): boolean {
  return name.length >= 1 && name.length <= 255 && PROJECT_NAME.test(name);
}

export function isPublic(project: Pick<ProjectRow, "metadata">): boolean {
  return project.metadata.public === "true";
}

// A repository counts once it holds a manifest; rows created by an abandoned upload do not.
const SELECT_PROJECT = `
  SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.metadata, p.registry_id, p.created_at, p.updated_at,
         (SELECT count(*) FROM repositories r
           WHERE r.project_id = p.id AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id))::int AS repo_count
    FROM projects p LEFT JOIN users u ON u.id = p.owner_id`;

/**
 * Which projects a listing shows: every one, the public ones, or the public ones plus those a user is a member of
 * or a robot holds grants in.
 */
export type Visibility = "public" | { all: true } | { userId: number } | { projectIds: number[] };

/** The few columns a permission check needs, without ProjectRow's counts (the hot path of every /v2 request). */
export type ProjectRef = Pick<ProjectRow, "id" | "name" | "metadata">;

export class ProjectStore {
  private readonly refs = new ReadCache<ProjectRef>({ max: 1000, ttlMs: CACHE_TTL_MS });

  constructor(private readonly db: Queryable) {}

  findRefByName(name: string): Promise<ProjectRef | null> {
    return this.refs.get(name, async () => {
      const [row] = await this.db.query<ProjectRef>("SELECT id, name, metadata FROM projects WHERE name = $1", [name]);
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
    input: { name: string; ownerId: number | null; metadata: Record<string, string> },
    db: Queryable = this.db,
  ): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO projects (name, owner_id, metadata) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [input.name, input.ownerId, JSON.stringify(input.metadata)],
    );
    return rows[0]?.id ?? null;
  }

  async list(options: { visibleTo: Visibility; name?: string; limit: number; offset: number }): Promise<{
    rows: ProjectRow[];
    total: number;
  }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const visible = options.visibleTo;
    if (visible === "public") where.push(`p.metadata->>'public' = 'true'`);
    else if ("userId" in visible) {
      params.push(visible.userId);
      where.push(`(p.metadata->>'public' = 'true' OR EXISTS (SELECT 1 FROM project_members m
        WHERE m.project_id = p.id AND m.entity_type = 'u' AND m.entity_id = $${params.length}))`);
    } else if ("projectIds" in visible) {
      params.push(visible.projectIds);
      where.push(`(p.metadata->>'public' = 'true' OR p.id = ANY($${params.length}::int[]))`);
    }
    if (options.name) {
      params.push(`%${options.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`p.name ILIKE $${params.length}`);
    }
    const clause = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const [{ total }] = await this.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM projects p${clause}`,
      params,
    );
    const rows = await this.db.query<ProjectRow>(
      `${SELECT_PROJECT}${clause} ORDER BY p.name LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows, total };
  }

  /** Deletes a project with no repositories. Returns false when it still has some. */
  async deleteIfEmpty(id: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      `DELETE FROM projects p WHERE p.id = $1 AND NOT EXISTS (
         SELECT 1 FROM repositories r JOIN manifests m ON m.repository_id = r.id WHERE r.project_id = p.id)
       RETURNING id`,
      [id],
    );
    this.refs.clear();
    return rows.length > 0;
  }
}
