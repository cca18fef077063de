import type { Queryable } from "../db/sql";

export interface RepositoryRow {
  id: number;
  project_id: number;
  name: string;
  description: string;
  artifact_count: number;
  pull_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface ArtifactRow {
  id: number;
  repository_id: number;
  /** The repository's full name (`project/repo`). */
  repository_name: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject_digest: string | null;
  /** The manifest and the blobs it refers to; for an index also its children with theirs. */
  size: number;
  push_time: Date;
  pull_time: Date | null;
}

export interface TagRow {
  repository_id: number;
  name: string;
  digest: string;
  created_at: Date;
}

export interface AccessoryRow {
  id: number;
  subject_digest: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  created_at: Date;
}

export interface Listing<T> {
  rows: T[];
  total: number;
}

export interface Page {
  conditions: string[];
  params: unknown[];
  order: string;
  limit: number;
  offset: number;
}

// Top-level artifacts (of the manifests aliased m): not the child of an index, not an accessory (a referrer) of an artifact still there.
export const TOP_LEVEL = `
  NOT EXISTS (SELECT 1 FROM manifest_references c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest AND c.child_kind = 'manifest')
  AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))`;

// A repository is listed once it holds a manifest (uploads alone create the row). Its artifact_count is what its
// artifact list shows (as Harbor since 2.5.1): top-level artifacts, not index children nor accessories.
const SELECT_REPOSITORY = `
  SELECT r.id, r.project_id, r.name, r.description, r.pull_count, r.created_at, r.updated_at,
         (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id AND ${TOP_LEVEL})::int AS artifact_count
    FROM repositories r
   WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`;

// Bytes of a manifest `x` with the blobs it refers to.
const OWN_SIZE = (x: string) => `(${x}.size + coalesce((SELECT sum(b.size) FROM manifest_references r JOIN blobs b ON b.digest = r.child_digest
   WHERE r.repository_id = ${x}.repository_id AND r.parent_digest = ${x}.digest AND r.child_kind = 'blob'), 0))`;

const SELECT_ARTIFACT = `
  SELECT m.id, m.repository_id, (SELECT name FROM repositories WHERE id = m.repository_id) AS repository_name, m.digest, m.media_type, m.artifact_type, m.subject_digest, m.created_at AS push_time, m.pull_time,
         (${OWN_SIZE("m")} + coalesce((SELECT sum(${OWN_SIZE("c")}) FROM manifest_references r
            JOIN manifests c ON c.repository_id = r.repository_id AND c.digest = r.child_digest
           WHERE r.repository_id = m.repository_id AND r.parent_digest = m.digest AND r.child_kind = 'manifest'), 0))::bigint AS size
    FROM manifests m`;

/** The read side of the artifacts API: repositories, artifacts, their tags, children and accessories. */
export class ArtifactStore {
  constructor(private readonly db: Queryable) {}

  /** Repositories of the projects `projectIds` (null: of every project). */
  async repositories(projectIds: number[] | null, page: Page): Promise<Listing<RepositoryRow>> {
    const params = [projectIds, ...page.params];
    const where = ["($1::int[] IS NULL OR q.project_id = ANY($1::int[]))", ...shift(page.conditions, 1)].join(" AND ");
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM (${SELECT_REPOSITORY}) q WHERE ${where}`, params);
    const rows = await this.db.query<RepositoryRow>(
      `SELECT * FROM (${SELECT_REPOSITORY}) q WHERE ${where} ORDER BY ${page.order} LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return { rows, total };
  }

  async repository(name: string): Promise<RepositoryRow | null> {
    const [row] = await this.db.query<RepositoryRow>(`SELECT * FROM (${SELECT_REPOSITORY}) q WHERE q.name = $1`, [name]);
    return row ?? null;
  }

  async artifacts(repositoryId: number, page: Page): Promise<Listing<ArtifactRow>> {
    const params = [repositoryId, ...page.params];
    const where = ["m.repository_id = $1", TOP_LEVEL, ...shift(page.conditions, 1)].join(" AND ");
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM manifests m WHERE ${where}`, params);
    const rows = await this.db.query<ArtifactRow>(
      `SELECT * FROM (${SELECT_ARTIFACT} WHERE ${where}) a ORDER BY ${page.order} LIMIT ${page.limit} OFFSET ${page.offset}`,
      params,
    );
    return { rows, total };
  }

  /** Top-level artifacts of every repository of a project; `latestInRepository` keeps each repository's newest. */
  async projectArtifacts(projectId: number, page: Page, latestInRepository: boolean): Promise<Listing<ArtifactRow>> {
    const params = [projectId, ...page.params];
    const where = ["m.repository_id IN (SELECT id FROM repositories WHERE project_id = $1)", TOP_LEVEL, ...shift(page.conditions, 1)].join(" AND ");
    const latest = latestInRepository ? "SELECT DISTINCT ON (repository_id) * FROM" : "SELECT * FROM";
    const matching = `${latest} (${SELECT_ARTIFACT} WHERE ${where}) a${latestInRepository ? " ORDER BY repository_id, push_time DESC, digest" : ""}`;
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM (${matching}) t`, params);
    const rows = await this.db.query<ArtifactRow>(`SELECT * FROM (${matching}) t ORDER BY ${page.order} LIMIT ${page.limit} OFFSET ${page.offset}`, params);
    return { rows, total };
  }

  async setDescription(repositoryId: number, description: string, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("UPDATE repositories SET description = $2, updated_at = now() WHERE id = $1 RETURNING id", [repositoryId, description]);
    return rows.length > 0;
  }

  async artifact(repositoryId: number, digest: string): Promise<ArtifactRow | null> {
    const [row] = await this.db.query<ArtifactRow>(`${SELECT_ARTIFACT} WHERE m.repository_id = $1 AND m.digest = $2`, [repositoryId, digest]);
    return row ?? null;
  }

  tags(repositoryId: number, digests: string[]): Promise<TagRow[]> {
    return this.db.query<TagRow>(
      "SELECT repository_id, name, digest, created_at FROM tags WHERE repository_id = $1 AND digest = ANY($2::text[]) ORDER BY name",
      [repositoryId, digests],
    );
  }

  /** The children of indexes among `digests`, with the platform the index names for each. */
  async references(repositoryId: number, digests: string[]): Promise<{ parent: string; child: string; platform: unknown }[]> {
    const indexes = await this.db.query<{ digest: string; content: Buffer }>(
      `SELECT digest, content FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[])
          AND EXISTS (SELECT 1 FROM manifest_references r WHERE r.repository_id = $1 AND r.parent_digest = digest AND r.child_kind = 'manifest')`,
      [repositoryId, digests],
    );
    return indexes.flatMap(({ digest, content }) => {
      const children = (JSON.parse(content.toString("utf8")) as { manifests?: { digest: string; platform?: unknown }[] }).manifests ?? [];
      return children.map((child) => ({ parent: digest, child: child.digest, platform: child.platform ?? null }));
    });
  }

  /** Referrers (signatures, SBOMs…) of `digests`. */
  accessories(repositoryId: number, digests: string[]): Promise<AccessoryRow[]> {
    return this.db.query(
      `SELECT id, subject_digest, digest, media_type, artifact_type, size, created_at FROM manifests
        WHERE repository_id = $1 AND subject_digest = ANY($2::text[]) ORDER BY created_at, digest`,
      [repositoryId, digests],
    );
  }

  /** Digests of every manifest of a repository (for deleting it whole). */
  async digests(repositoryId: number): Promise<string[]> {
    return (await this.db.query<{ digest: string }>("SELECT digest FROM manifests WHERE repository_id = $1", [repositoryId])).map((r) => r.digest);
  }
}

/** Renumbers `$n` placeholders of conditions built from 1 so they follow `offset` leading parameters. */
function shift(conditions: string[], offset: number): string[] {
  return conditions.map((condition) => condition.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`));
}
