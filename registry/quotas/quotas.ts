import type { Queryable } from "../db/sql";
import type { EventPublisher } from "../events/events";

/** Harbor fires QUOTA_WARNING when a push takes a project's usage across this share of its limit. */
export const QUOTA_WARNING_RATIO = 0.85;
export const UNLIMITED = -1;
// Harbor's upper bound for a storage quota: 1024 TiB.
export const MAX_STORAGE_LIMIT = 1024 ** 5;

/**
 * A project's storage usage, as SQL over the project id parameter `$n`: the sizes of the distinct blobs its
 * repositories hold (uploaded or mounted, referenced by a manifest or not yet), each counted once however many
 * repositories share it. This is what a push adds to and what garbage collection gives back; manifests themselves
 * (kept in the database, at most 4 MiB each) are not counted.
 */
export function projectUsageSql(projectParam: string): string {
  return `(SELECT coalesce(sum(b.size), 0)::bigint FROM blobs b WHERE b.digest IN (
             SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
              WHERE r.project_id = ${projectParam}))`;
}

export class QuotaExceededError extends Error {}

/** 1536 → "1.5 KiB": the unit a person reads in a refusal message. */
export function humanBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export interface QuotaRow {
  project_id: number;
  project_name: string;
  owner_name: string | null;
  storage_limit: number;
  used: number;
  created_at: Date;
  updated_at: Date;
}

const SELECT_QUOTA = `
  SELECT p.id AS project_id, p.name AS project_name, u.username AS owner_name, p.storage_limit,
         ${projectUsageSql("p.id")} AS used, p.created_at, p.updated_at
    FROM projects p LEFT JOIN users u ON u.id = p.owner_id`;

/** Per-project storage quotas: the limit lives on the project row; usage is computed from the blobs it holds. */
export class ProjectQuotas {
  constructor(
    private readonly db: Queryable,
    private readonly events: EventPublisher,
  ) {}

  /**
   * How many more bytes the project may take (null: no limit). An upload whose session grows past it is cut as the
   * bytes arrive, rather than stored whole and refused only when it is finished.
   */
  async headroom(projectId: number): Promise<number | null> {
    const [row] = await this.db.query<{ storage_limit: number; used: number }>(
      `SELECT p.storage_limit, CASE WHEN p.storage_limit < 0 THEN 0 ELSE ${projectUsageSql("p.id")} END AS used FROM projects p WHERE p.id = $1`,
      [projectId],
    );
    return !row || row.storage_limit < 0 ? null : Math.max(0, row.storage_limit - row.used);
  }

  /**
   * Lets blob `digest` of `size` bytes into the project, or refuses with QuotaExceededError (and a QUOTA_EXCEED
   * event) when that would take usage over the limit. A blob the project already holds adds nothing. Concurrent
   * pushes into one project are each checked against usage before the others land, so together they may overshoot
   * by at most what they upload at the same moment.
   */
  async admit(
    project: { id: number; name: string; public: boolean },
    push: { digest: string; size: number; operator: string; repository: string },
  ): Promise<void> {
    await this.admitBlobs(project, { ...push, blobs: [{ digest: push.digest, size: push.size }] });
  }

  /**
   * `admit` for several blobs at once (an artifact copied from another project): the sizes of those the project does
   * not hold yet are added up and checked together; `digest` names what the events are about.
   */
  async admitBlobs(
    project: { id: number; name: string; public: boolean },
    push: { digest: string; blobs: { digest: string; size: number }[]; operator: string; repository: string },
  ): Promise<void> {
    const [row] = await this.db.query<{ storage_limit: number; used: number; adding: number }>(
      `SELECT p.storage_limit,
              CASE WHEN p.storage_limit < 0 THEN 0 ELSE ${projectUsageSql("p.id")} END AS used,
              CASE WHEN p.storage_limit < 0 THEN 0 ELSE coalesce((SELECT sum(b.size) FROM unnest($2::text[], $3::bigint[]) AS b(digest, size)
                WHERE NOT EXISTS (SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
                                   WHERE r.project_id = p.id AND rb.digest = b.digest)), 0) END::bigint AS adding
         FROM projects p WHERE p.id = $1`,
      [project.id, push.blobs.map((b) => b.digest), push.blobs.map((b) => b.size)],
    );
    if (!row || row.storage_limit < 0 || Number(row.adding) === 0) return;
    const limit = row.storage_limit;
    const adding = Number(row.adding);
    const after = row.used + adding;
    const event = (type: "QUOTA_EXCEED" | "QUOTA_WARNING", message: string) =>
      this.events.publish({
        type,
        projectId: project.id,
        operator: push.operator,
        occurredAt: new Date(),
        repository: { name: push.repository, public: project.public },
        resources: [{ digest: push.digest, tag: null }],
        details: { message },
      });
    if (after > limit) {
      const message =
        `adding ${humanBytes(adding)} of storage to project ${project.name}, which when updated to current usage of ` +
        `${humanBytes(row.used)} will exceed the configured upper limit of ${humanBytes(limit)}`;
      await event("QUOTA_EXCEED", message);
      throw new QuotaExceededError(message);
    }
    if (after >= QUOTA_WARNING_RATIO * limit && row.used < QUOTA_WARNING_RATIO * limit) {
      await event("QUOTA_WARNING", `project ${project.name} uses ${humanBytes(after)} of its ${humanBytes(limit)} storage quota`);
    }
  }

  async list(options: { projectId?: number; limit: number; offset: number; order: string }): Promise<{ rows: QuotaRow[]; total: number }> {
    const where = options.projectId === undefined ? "" : " WHERE p.id = $1";
    const params = options.projectId === undefined ? [] : [options.projectId];
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM projects p${where}`, params);
    const rows = await this.db.query<QuotaRow>(
      `SELECT * FROM (${SELECT_QUOTA}${where}) q ORDER BY ${options.order} LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows, total };
  }

  async get(projectId: number): Promise<QuotaRow | null> {
    const [row] = await this.db.query<QuotaRow>(`${SELECT_QUOTA} WHERE p.id = $1`, [projectId]);
    return row ?? null;
  }

  async setLimit(projectId: number, limit: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("UPDATE projects SET storage_limit = $2, updated_at = now() WHERE id = $1 RETURNING id", [projectId, limit]);
    return rows.length > 0;
  }
}
