import type { Queryable } from "../db/sql";

export type ExecutionStatus = "Running" | "Success" | "Error" | "Stopped";
export type Trigger = "MANUAL" | "SCHEDULE" | "EVENT";

export interface ExecutionRow {
  id: number;
  vendor_type: string;
  vendor_id: number;
  status: ExecutionStatus;
  status_message: string;
  trigger: Trigger;
  extra_attrs: Record<string, unknown>;
  metrics: Record<string, unknown>;
  start_time: Date;
  end_time: Date | null;
}

const COLUMNS = "id, vendor_type, vendor_id, status, status_message, trigger, extra_attrs, metrics, start_time, end_time";

/** How long a running execution stays alive without its node renewing the lease. */
export const LEASE_MS = 30_000;

/** Job runs (Harbor's generic executions) and their log lines. */
export class ExecutionStore {
  constructor(private readonly db: Queryable) {}

  async start(vendorType: string, vendorId: number, trigger: Trigger, extra: Record<string, unknown>): Promise<number> {
    const [row] = await this.db.query<{ id: number }>(
      `INSERT INTO executions (vendor_type, vendor_id, status, trigger, extra_attrs, lease_until)
       VALUES ($1, $2, 'Running', $3, $4, now() + make_interval(secs => $5)) RETURNING id`,
      [vendorType, vendorId, trigger, JSON.stringify(extra), LEASE_MS / 1000],
    );
    return row.id;
  }

  /** Ends a running execution; an execution that already ended (reaped, stopped) keeps its first outcome. */
  async finish(id: number, status: Exclude<ExecutionStatus, "Running">, message: string, metrics: Record<string, unknown> = {}): Promise<void> {
    await this.db.query(
      `UPDATE executions SET status = $2, status_message = $3, metrics = $4, end_time = now(), lease_until = NULL
        WHERE id = $1 AND status = 'Running'`,
      [id, status, message, JSON.stringify(metrics)],
    );
  }

  /** Renews the leases of `ids`; returns those whose stop was requested (by any node). */
  async renew(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<{ id: number; stop_requested: boolean }>(
      `UPDATE executions SET lease_until = now() + make_interval(secs => $2)
        WHERE id = ANY($1::int[]) AND status = 'Running' RETURNING id, stop_requested`,
      [ids, LEASE_MS / 1000],
    );
    return rows.filter((r) => r.stop_requested).map((r) => r.id);
  }

  /** Marks as failed the runs whose node stopped renewing them (it crashed or was killed). */
  async reapExpired(): Promise<number> {
    const rows = await this.db.query(
      `UPDATE executions SET status = 'Error', end_time = now(), lease_until = NULL,
              status_message = 'interrupted: the process running it stopped before it finished'
        WHERE status = 'Running' AND lease_until < now() RETURNING id`,
    );
    return rows.length;
  }

  /** Asks the node running `id` to stop it; false when it is not running. */
  async requestStop(id: number): Promise<boolean> {
    const rows = await this.db.query("UPDATE executions SET stop_requested = true WHERE id = $1 AND status = 'Running' RETURNING id", [id]);
    return rows.length > 0;
  }

  async get(id: number): Promise<ExecutionRow | null> {
    const [row] = await this.db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM executions WHERE id = $1`, [id]);
    return row ?? null;
  }

  async list(
    vendorType: string,
    vendorId: number | null,
    limit: number,
    offset: number,
    filters: { status?: ExecutionStatus; trigger?: Trigger } = {},
  ): Promise<{ rows: ExecutionRow[]; total: number }> {
    const where = "vendor_type = $1 AND ($2::int IS NULL OR vendor_id = $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR trigger = $4)";
    const params = [vendorType, vendorId, filters.status ?? null, filters.trigger ?? null];
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM executions WHERE ${where}`, params);
    const rows = await this.db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM executions WHERE ${where} ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`, params);
    return { rows, total };
  }

  async appendLog(id: number, line: string): Promise<void> {
    await this.db.query("INSERT INTO execution_logs (execution_id, line) VALUES ($1, $2)", [id, line.replace(/\0/g, "")]);
  }

  /** The execution's log as text, one timestamped line per entry. */
  async log(id: number): Promise<string> {
    const rows = await this.db.query<{ logged_at: Date; line: string }>(
      "SELECT logged_at, line FROM execution_logs WHERE execution_id = $1 ORDER BY id",
      [id],
    );
    return rows.map((r) => `${r.logged_at.toISOString()} ${r.line}\n`).join("");
  }
}
