import { containsPattern, type Queryable } from "../db/sql";
import type { ReplicationPolicyInput } from "./policy";

export interface StoredReplicationPolicy {
  id: number;
  policy: ReplicationPolicyInput;
  creator: string;
  created_at: Date;
  updated_at: Date;
}

export type TaskStatus = "Pending" | "InProgress" | "Succeed" | "Failed" | "Stopped";
export type TaskOperation = "copy" | "deletion" | "tag deletion";

export interface ReplicationTaskRow {
  id: number;
  execution_id: number;
  status: TaskStatus;
  operation: TaskOperation;
  resource_type: string;
  src_resource: string;
  dst_resource: string;
  start_time: Date | null;
  end_time: Date | null;
}

export interface TaskCounts {
  total: number;
  failed: number;
  succeed: number;
  in_progress: number;
  stopped: number;
}

const TASK_COLUMNS = "id, execution_id, status, operation, resource_type, src_resource, dst_resource, start_time, end_time";

/** Replication policies and the per-artifact tasks of their executions. */
export class ReplicationStore {
  constructor(private readonly db: Queryable) {}

  async list(name: string | undefined, limit: number, offset: number): Promise<{ rows: StoredReplicationPolicy[]; total: number }> {
    const params = [name ? containsPattern(name) : null];
    const where = "($1::text IS NULL OR name ILIKE $1)";
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM replication_policies WHERE ${where}`, params);
    const rows = await this.db.query<StoredReplicationPolicy>(
      `SELECT id, policy, creator, created_at, updated_at FROM replication_policies WHERE ${where} ORDER BY id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    return { rows, total };
  }

  async get(id: number): Promise<StoredReplicationPolicy | null> {
    const [row] = await this.db.query<StoredReplicationPolicy>("SELECT id, policy, creator, created_at, updated_at FROM replication_policies WHERE id = $1", [id]);
    return row ?? null;
  }

  /** Enabled policies that push this registry's events to their destination. */
  async eventBased(): Promise<StoredReplicationPolicy[]> {
    return this.db.query<StoredReplicationPolicy>(
      `SELECT id, policy, creator, created_at, updated_at FROM replication_policies
        WHERE policy->'trigger'->>'type' = 'event_based' AND (policy->>'enabled')::boolean ORDER BY id`,
    );
  }

  /** Creates a policy; null when the name is taken. */
  async create(policy: ReplicationPolicyInput, creator: string, db: Queryable = this.db): Promise<number | null> {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO replication_policies (name, src_registry_id, dest_registry_id, policy, creator) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [policy.name, policy.srcRegistryId, policy.destRegistryId, JSON.stringify(policy), creator],
    );
    return row?.id ?? null;
  }

  async update(id: number, policy: ReplicationPolicyInput, db: Queryable = this.db): Promise<void> {
    await db.query(
      "UPDATE replication_policies SET name = $2, src_registry_id = $3, dest_registry_id = $4, policy = $5, updated_at = now() WHERE id = $1",
      [id, policy.name, policy.srcRegistryId, policy.destRegistryId, JSON.stringify(policy)],
    );
  }

  /** Deletes the policy with its executions (and so their tasks and logs), as Harbor does. */
  async delete(id: number, vendorType: string, db: Queryable = this.db): Promise<void> {
    await db.query("DELETE FROM executions WHERE vendor_type = $1 AND vendor_id = $2", [vendorType, id]);
    await db.query("DELETE FROM replication_policies WHERE id = $1", [id]);
  }

  /** Names of the policies that use registry endpoint `registryId`. */
  async usingRegistry(registryId: number): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      "SELECT name FROM replication_policies WHERE src_registry_id = $1 OR dest_registry_id = $1 ORDER BY name",
      [registryId],
    );
    return rows.map((r) => r.name);
  }

  async addTask(task: Pick<ReplicationTaskRow, "execution_id" | "operation" | "resource_type" | "src_resource" | "dst_resource">): Promise<number> {
    const [row] = await this.db.query<{ id: number }>(
      `INSERT INTO replication_tasks (execution_id, operation, resource_type, src_resource, dst_resource) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [task.execution_id, task.operation, task.resource_type, task.src_resource, task.dst_resource],
    );
    return row.id;
  }

  async startTask(id: number): Promise<void> {
    await this.db.query("UPDATE replication_tasks SET status = 'InProgress', start_time = now() WHERE id = $1", [id]);
  }

  async finishTask(id: number, status: Exclude<TaskStatus, "Pending" | "InProgress">, log: string): Promise<void> {
    await this.db.query(
      "UPDATE replication_tasks SET status = $2, log = log || $3, start_time = coalesce(start_time, now()), end_time = now() WHERE id = $1",
      [id, status, log.replace(/\0/g, "")],
    );
  }

  /**
   * Tasks left Pending or InProgress by an execution that ended without them (its process was killed, or it was
   * stopped) get the execution's outcome, so no task claims to be running forever.
   */
  async settleOrphans(): Promise<void> {
    await this.db.query(
      `UPDATE replication_tasks t
          SET status = CASE WHEN e.status = 'Stopped' THEN 'Stopped' ELSE 'Failed' END, end_time = coalesce(e.end_time, now()),
              log = t.log || 'not finished: the execution ended (' || e.status || ': ' || e.status_message || ')' || E'\n'
         FROM executions e
        WHERE e.id = t.execution_id AND e.status <> 'Running' AND t.status IN ('Pending', 'InProgress')`,
    );
  }

  async tasks(
    executionId: number,
    filters: { status?: string; resourceType?: string },
    limit: number,
    offset: number,
  ): Promise<{ rows: ReplicationTaskRow[]; total: number }> {
    const where = "execution_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR resource_type = $3)";
    const params = [executionId, filters.status ?? null, filters.resourceType ?? null];
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM replication_tasks WHERE ${where}`, params);
    const rows = await this.db.query<ReplicationTaskRow>(`SELECT ${TASK_COLUMNS} FROM replication_tasks WHERE ${where} ORDER BY id LIMIT ${limit} OFFSET ${offset}`, params);
    return { rows, total };
  }

  async task(executionId: number, taskId: number): Promise<(ReplicationTaskRow & { log: string }) | null> {
    const [row] = await this.db.query<ReplicationTaskRow & { log: string }>(
      `SELECT ${TASK_COLUMNS}, log FROM replication_tasks WHERE execution_id = $1 AND id = $2`,
      [executionId, taskId],
    );
    return row ?? null;
  }

  /** Task counters per execution, Harbor's execution summary. */
  async counts(executionIds: number[]): Promise<Map<number, TaskCounts>> {
    const rows = await this.db.query<TaskCounts & { execution_id: number }>(
      `SELECT execution_id, count(*)::int AS total,
              (count(*) FILTER (WHERE status = 'Failed'))::int AS failed,
              (count(*) FILTER (WHERE status = 'Succeed'))::int AS succeed,
              (count(*) FILTER (WHERE status IN ('Pending', 'InProgress')))::int AS in_progress,
              (count(*) FILTER (WHERE status = 'Stopped'))::int AS stopped
         FROM replication_tasks WHERE execution_id = ANY($1::int[]) GROUP BY execution_id`,
      [executionIds],
    );
    return new Map(rows.map(({ execution_id, ...counts }) => [execution_id, counts]));
  }
}
