import { containsPattern, type Queryable } from "../db/sql";

/** Harbor's label scopes: global (system admins manage them) or one project's. */
export type LabelScope = "g" | "p";

export interface LabelRow {
  id: number;
  name: string;
  description: string;
  color: string;
  scope: LabelScope;
  project_id: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface LabelInput {
  name: string;
  description: string;
  color: string;
}

/** A label's own fields, when the body cannot be stored. */
export class LabelError extends Error {}

const NAME_MAX = 128;

/**
 * Checks a label's name, description and color. Names hold no comma: a retention label selector lists names
 * separated by commas (Harbor's `pattern: "a,b"`), so a comma inside one name could never be selected.
 */
export function parseLabelFields(body: Record<string, unknown>, current?: LabelInput): LabelInput {
  const name = body.name ?? current?.name;
  if (typeof name !== "string" || name.trim() === "" || name.length > NAME_MAX || /[,\p{Cc}]/u.test(name)) {
    throw new LabelError(`name must be 1 to ${NAME_MAX} characters, without commas or control characters`);
  }
  const description = body.description ?? current?.description ?? "";
  if (typeof description !== "string" || description.length > 1024) throw new LabelError("description must be text of at most 1024 characters");
  const color = body.color ?? current?.color ?? "";
  if (typeof color !== "string" || (color !== "" && !/^#[0-9A-Fa-f]{6}$/.test(color))) throw new LabelError('color must be "#RRGGBB" or empty');
  return { name: name.trim(), description, color };
}

const COLUMNS = "id, name, description, color, scope, project_id, created_at, updated_at";

/** Labels and the artifacts carrying them (migration 033). */
export class Labels {
  constructor(private readonly db: Queryable) {}

  async get(id: number): Promise<LabelRow | null> {
    const [row] = await this.db.query<LabelRow>(`SELECT ${COLUMNS} FROM labels WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** One scope's labels (a project's when projectId is set), optionally those whose name contains `name`. */
  async list(options: { projectId: number | null; exactName?: string; nameContains?: string; limit: number; offset: number }): Promise<{ rows: LabelRow[]; total: number }> {
    const params: unknown[] = [options.projectId];
    const where = ["project_id IS NOT DISTINCT FROM $1"];
    if (options.exactName !== undefined) {
      params.push(options.exactName);
      where.push(`name = $${params.length}`);
    }
    if (options.nameContains !== undefined) {
      params.push(containsPattern(options.nameContains));
      where.push(`name ILIKE $${params.length}`);
    }
    const clause = where.join(" AND ");
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM labels WHERE ${clause}`, params);
    const rows = await this.db.query<LabelRow>(`SELECT ${COLUMNS} FROM labels WHERE ${clause} ORDER BY name, id LIMIT ${options.limit} OFFSET ${options.offset}`, params);
    return { rows, total };
  }

  /** The new label's id, or null when its scope already has one of that name. */
  async create(input: LabelInput, projectId: number | null, db: Queryable = this.db): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO labels (name, description, color, scope, project_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING id`,
      [input.name, input.description, input.color, projectId === null ? "g" : "p", projectId],
    );
    return rows[0]?.id ?? null;
  }

  /** False when another label of the scope has the new name (or the label is gone). */
  async update(id: number, input: LabelInput, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      `UPDATE labels l SET name = $2, description = $3, color = $4, updated_at = now() WHERE id = $1
          AND NOT EXISTS (SELECT 1 FROM labels o WHERE o.id <> l.id AND o.name = $2 AND o.project_id IS NOT DISTINCT FROM l.project_id)
       RETURNING id`,
      [id, input.name, input.description, input.color],
    );
    return rows.length > 0;
  }

  async delete(id: number, db: Queryable = this.db): Promise<boolean> {
    return (await db.query("DELETE FROM labels WHERE id = $1 RETURNING id", [id])).length > 0;
  }

  /** False when the artifact already carries the label. */
  async attach(repositoryId: number, digest: string, labelId: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      "INSERT INTO artifact_labels (repository_id, digest, label_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING label_id",
      [repositoryId, digest, labelId],
    );
    return rows.length > 0;
  }

  async detach(repositoryId: number, digest: string, labelId: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("DELETE FROM artifact_labels WHERE repository_id = $1 AND digest = $2 AND label_id = $3 RETURNING label_id", [repositoryId, digest, labelId]);
    return rows.length > 0;
  }

  /** The labels of each of `digests` in one repository, by digest, in the order they were added. */
  async ofArtifacts(repositoryId: number, digests: string[]): Promise<Map<string, LabelRow[]>> {
    const rows = await this.db.query<LabelRow & { digest: string }>(
      `SELECT a.digest, ${COLUMNS.split(", ").map((c) => `l.${c}`).join(", ")}
         FROM artifact_labels a JOIN labels l ON l.id = a.label_id
        WHERE a.repository_id = $1 AND a.digest = ANY($2::text[]) ORDER BY a.created_at, l.id`,
      [repositoryId, digests],
    );
    const byDigest = new Map<string, LabelRow[]>();
    for (const { digest, ...label } of rows) byDigest.set(digest, [...(byDigest.get(digest) ?? []), label]);
    return byDigest;
  }

  /** Label names of the artifact `digest` of the repository named `repository` (retention and replication filters). */
  async namesOf(repository: string, digest: string): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      `SELECT l.name FROM artifact_labels a JOIN labels l ON l.id = a.label_id JOIN repositories r ON r.id = a.repository_id
        WHERE r.name = $1 AND a.digest = $2 ORDER BY l.name`,
      [repository, digest],
    );
    return rows.map((r) => r.name);
  }
}

/** Harbor's Label object. */
export function labelToApi(label: LabelRow) {
  return {
    id: label.id,
    name: label.name,
    description: label.description,
    color: label.color,
    scope: label.scope,
    project_id: label.project_id ?? 0,
    creation_time: label.created_at,
    update_time: label.updated_at,
  };
}
