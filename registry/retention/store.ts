import type { Queryable } from "../db/sql";
import type { RetentionPolicyBody } from "./policy";

export interface StoredPolicy {
  id: number;
  project_id: number;
  policy: RetentionPolicyBody;
}

export interface TaskRow {
  id: number;
  execution_id: number;
  repository: string;
  status: string;
  total: number;
  retained: number;
  log: string;
  start_time: Date;
  end_time: Date;
}

/** Retention policies (one per project; the project's metadata names it as retention_id) and run tasks. */
export class RetentionStore {
  constructor(private readonly db: Queryable) {}

  async get(id: number): Promise<StoredPolicy | null> {
    const [row] = await this.db.query<StoredPolicy>("SELECT id, project_id, policy FROM retention_policies WHERE id = $1", [id]);
    return row ?? null;
  }

  async ofProject(projectId: number): Promise<StoredPolicy | null> {
    const [row] = await this.db.query<StoredPolicy>("SELECT id, project_id, policy FROM retention_policies WHERE project_id = $1", [projectId]);
    return row ?? null;
  }

  /** Creates the project's policy and records its id in the project metadata; null when it already has one. */
  async create(policy: RetentionPolicyBody, db: Queryable): Promise<number | null> {
    const [row] = await db.query<{ id: number }>(
      "INSERT INTO retention_policies (project_id, policy) VALUES ($1, $2) ON CONFLICT (project_id) DO NOTHING RETURNING id",
      [policy.scope.ref, JSON.stringify(policy)],
    );
    if (!row) return null;
    await db.query("UPDATE projects SET metadata = metadata || jsonb_build_object('retention_id', $2::text) WHERE id = $1", [policy.scope.ref, String(row.id)]);
    return row.id;
  }

  async update(id: number, policy: RetentionPolicyBody, db: Queryable): Promise<boolean> {
    const rows = await db.query("UPDATE retention_policies SET policy = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, JSON.stringify(policy)]);
    return rows.length > 0;
  }

  async delete(id: number, projectId: number, db: Queryable): Promise<boolean> {
    const rows = await db.query("DELETE FROM retention_policies WHERE id = $1 RETURNING id", [id]);
    await db.query("UPDATE projects SET metadata = metadata - 'retention_id' WHERE id = $1", [projectId]);
    return rows.length > 0;
  }

  async addTask(task: Omit<TaskRow, "id" | "end_time">): Promise<void> {
    await this.db.query(
      "INSERT INTO retention_tasks (execution_id, repository, status, total, retained, log, start_time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [task.execution_id, task.repository, task.status, task.total, task.retained, task.log, task.start_time],
    );
  }

  tasks(executionId: number): Promise<TaskRow[]> {
    return this.db.query<TaskRow>("SELECT * FROM retention_tasks WHERE execution_id = $1 ORDER BY id", [executionId]);
  }
}
