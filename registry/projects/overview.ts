import { TOP_LEVEL } from "../artifacts/artifact-store";
import { containsPattern, type Queryable } from "../db/sql";
import { projectUsageSql } from "../quotas/quotas";
import { isPublic, type ProjectRow, type ProjectStore, type Visibility } from "./projects";

export interface RepositoryHit {
  project_id: number;
  project_name: string;
  project_public: boolean;
  repository_name: string;
  pull_count: number;
  artifact_count: number;
}

export interface Statistics {
  private_project_count: number;
  private_repo_count: number;
  public_project_count: number;
  public_repo_count: number;
  total_project_count: number;
  total_repo_count: number;
}

/** Every project a caller can see (listings are bounded by what one registry holds, as /v2/_catalog's are). */
async function visibleProjects(projects: ProjectStore, visibleTo: Visibility, nameContains?: string): Promise<ProjectRow[]> {
  const filter = nameContains === undefined ? undefined : { conditions: ["p.name ILIKE $1"], params: [containsPattern(nameContains)] };
  return (await projects.list({ visibleTo, filter, limit: 1_000_000, offset: 0 })).rows;
}

/** What a caller can see across projects: Harbor's /search and /statistics. */
export class ProjectOverview {
  constructor(
    private readonly db: Queryable,
    private readonly projects: ProjectStore,
  ) {}

  /** Visible projects whose name contains `q`, and repositories (holding content) of visible projects whose name does. */
  async search(visibleTo: Visibility, q: string): Promise<{ projects: ProjectRow[]; repositories: RepositoryHit[] }> {
    const visible = await visibleProjects(this.projects, visibleTo);
    const repositories = await this.db.query<RepositoryHit>(
      `SELECT p.id AS project_id, p.name AS project_name, coalesce(p.metadata->>'public', 'false') = 'true' AS project_public,
              r.name AS repository_name, r.pull_count,
              (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id AND ${TOP_LEVEL})::int AS artifact_count
         FROM repositories r JOIN projects p ON p.id = r.project_id
        WHERE r.project_id = ANY($1::int[]) AND r.name ILIKE $2 AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
        ORDER BY r.name`,
      [visible.map((p) => p.id), containsPattern(q)],
    );
    return { projects: await visibleProjects(this.projects, visibleTo, q), repositories };
  }

  /** Project and repository counts of what the caller sees, split public/private. */
  async statistics(visibleTo: Visibility): Promise<Statistics> {
    const visible = await visibleProjects(this.projects, visibleTo);
    const open = visible.filter((p) => isPublic(p));
    const closed = visible.filter((p) => !isPublic(p));
    const repos = (rows: ProjectRow[]) => rows.reduce((sum, p) => sum + p.repo_count, 0);
    return {
      private_project_count: closed.length,
      private_repo_count: repos(closed),
      public_project_count: open.length,
      public_repo_count: repos(open),
      total_project_count: visible.length,
      total_repo_count: repos(visible),
    };
  }

  /** Bytes stored by all projects, as their quotas count them. */
  async totalStorage(): Promise<number> {
    const [row] = await this.db.query<{ used: string | number | null }>(`SELECT sum(${projectUsageSql("p.id")})::bigint AS used FROM projects p`);
    return Number(row.used ?? 0);
  }
}
