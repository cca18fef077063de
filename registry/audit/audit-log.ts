import type { FastifyRequest } from "fastify";
import { principalName } from "../auth/principal";
import type { Queryable, Sql } from "../db/sql";
import type { ForwardedRecord } from "./syslog-forwarder";

export const AUDIT_OPERATIONS = ["create", "update", "delete", "pull"] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];
export const AUDIT_RESOURCE_TYPES = [
  "artifact", "tag", "blob", "project", "member", "user", "robot", "immutable-tag-rule", "gc", "webhook-policy", "repository", "retention-policy",
  "registry", "replication-policy", "controller-source", "vulnerability-database", "scan", "cve-allowlist", "export-cve", "scanner",
  "configuration", "purge-audit", "label", "user-group",
] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

export interface AuditEntry {
  projectId: number | null;
  operation: AuditOperation;
  resourceType: AuditResourceType;
  resource: string;
  description?: string;
  result?: boolean;
}

/** Who did it, from where, and why: taken from the request. */
export interface AuditActor {
  username: string;
  clientIp: string;
  /** X-Berth-Change-Ref: the controller sends the commit (and author) that caused the change. */
  changeRef: string | null;
}

const CHANGE_REF_MAX = 512;
const USERNAME_MAX = 255;

export function actorOf(request: FastifyRequest): AuditActor {
  const ref = request.headers["x-berth-change-ref"];
  const changeRef = typeof ref === "string" && ref !== "" ? ref.replace(/\0/g, "").slice(0, CHANGE_REF_MAX) : null;
  const name = principalName(request.principal);
  return {
    username: name.length > USERNAME_MAX ? `${name.slice(0, USERNAME_MAX - 3)}...` : name,
    clientIp: request.ip,
    changeRef,
  };
}

const INSERT = `INSERT INTO audit_logs (project_id, operation, resource_type, resource, description, result, username, client_ip, change_ref)`;

function values(entry: AuditEntry, actor: AuditActor): unknown[] {
  return [
    entry.projectId,
    entry.operation,
    entry.resourceType,
    entry.resource,
    entry.description ?? `${entry.operation} ${entry.resourceType}: ${entry.resource}`,
    entry.result ?? true,
    actor.username,
    actor.clientIp,
    actor.changeRef,
  ];
}

// Pulls and refused writes are frequent and change nothing: they are written in batches, and identical ones (same
// caller, address, operation and resource) within one batch become one record that says how many there were, so a
// busy artifact (or a script retrying a forbidden call) costs one row a second, not one per request. A crash loses
// at most the records of the last FLUSH_INTERVAL_MS; every change is written in the change's own transaction.
const FLUSH_INTERVAL_MS = 1000;
const PULL_BATCH_MAX = 500;

function forwarded(row: unknown[]): ForwardedRecord {
  const [projectId, operation, resourceType, resource, description, result, username, clientIp] = row;
  return {
    username: username as string,
    operation: operation as string,
    resource_type: resourceType as string,
    resource: resource as string,
    operation_description: description as string,
    operation_result: result as boolean,
    client_ip: clientIp as string,
    project_id: projectId as number | null,
    op_time: new Date().toISOString(),
  };
}

export class AuditLog {
  /** Where written records are also sent (audit_log_forward_endpoint); best effort, after the database write. */
  private forward: ((records: ForwardedRecord[]) => void) | null = null;
  private pending = new Map<string, { entry: AuditEntry; actor: AuditActor; count: number }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Writes a record inside the caller's transaction, so the change and its record commit (or not) together. */
  async record(tx: Queryable, entry: AuditEntry, actor: AuditActor): Promise<void> {
    const row = values(entry, actor);
    await tx.query(`${INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, row);
    // Sent once written in the change's transaction: a change rolled back after its record is rare (the record
    // comes last) and a forwarded line then names an attempt, which an audit trail may well show.
    this.forward?.([forwarded(row)]);
  }

  forwardTo(sink: (records: ForwardedRecord[]) => void): void {
    this.forward = sink;
  }

  /**
   * Runs `change` in a transaction and, when it changed something (a truthy result), writes its record in that
   * same transaction: the change and its record commit together or not at all.
   */
  change<T>(actor: AuditActor, entry: AuditEntry, change: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.sql.transaction(async (tx) => {
      const result = await change(tx);
      if (result) await this.record(tx, entry, actor);
      return result;
    });
  }

  /** Queues a record of something that changed nothing (a pull, a refused write); it is written within a second. */
  queue(entry: AuditEntry, actor: AuditActor): void {
    const key = JSON.stringify([actor.username, actor.clientIp, actor.changeRef, entry.operation, entry.result ?? true, entry.resource]);
    const same = this.pending.get(key);
    if (same) same.count += 1;
    else this.pending.set(key, { entry, actor, count: 1 });
    if (this.pending.size >= PULL_BATCH_MAX) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes the queued pull records (also called on shutdown). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()].map(({ entry, actor, count }) => {
      const description = entry.description ?? `${entry.operation} ${entry.resourceType}: ${entry.resource}`;
      return values({ ...entry, description: count > 1 ? `${description} (${count} times)` : description }, actor);
    });
    this.pending = new Map();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      const placeholders = batch.map((_, row) => `(${Array.from({ length: 9 }, (_, col) => `$${row * 9 + col + 1}`).join(", ")})`);
      await this.sql.query(`${INSERT} VALUES ${placeholders.join(", ")}`, batch.flat()).then(() => this.forward?.(batch.map(forwarded)), this.onError);
    });
    return this.flushing;
  }
}
