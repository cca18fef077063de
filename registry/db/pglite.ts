import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import { privatizeTree } from "../secrets/private-data-dir";
import type { Queryable, Sql } from "./sql";

export interface PgliteOptions {
  /** PostgreSQL's page cache inside the wasm heap, in MB; PGlite's default (128) alone costs ~140 MB of RSS. */
  sharedBuffersMb?: number;
  /** Called once the database is closed (releases the data dir lock). */
  onClose?: () => void;
}

/**
 * Creates a new database directory in a child process. initdb inside this process would leave its wasm heaps
 * (~600 MB, a second PGlite instance included) in the resident set long after they are freed; a child gives them
 * back when it exits, so a first start costs no more memory than a restart.
 */
async function initdbInChild(dataDir: string): Promise<void> {
  const script = "require(process.argv[1]).PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close())";
  try {
    await promisify(execFile)(process.execPath, ["-e", script, require.resolve("@electric-sql/pglite"), dataDir], {
      env: { ...process.env, NODE_OPTIONS: "" },
    });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`cannot create the embedded database in ${dataDir}: ${stderr.split("\n").at(-1) || (error as Error).message}`);
  }
}

/**
 * Embedded PostgreSQL (PGlite). Its files live in a 0700 directory, so no other user can reach them; their own modes
 * are trimmed to 0600 on open and on close as well, because PGlite's file system layer chmods files that PostgreSQL
 * creates through fopen (initdb's, pg_internal.init, the statistics file) to 0666 whatever the umask, and a backup
 * copied elsewhere would carry those modes.
 *
 * PGlite is a single database session, so a transaction must not interleave
 * with other statements: every statement and every transaction runs one at a time through `exclusive`.
 */
export class PgliteSql implements Sql {
  readonly kind = "pglite";
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: PGlite,
    private readonly onClose?: () => void,
    private readonly dataDir?: string,
  ) {}

  /** Opens (or creates) the database in `dataDir`; in memory when dataDir is undefined. */
  static async open(dataDir?: string, options: PgliteOptions = {}): Promise<PgliteSql> {
    const { PGlite } = await import("@electric-sql/pglite");
    if (dataDir !== undefined && !existsSync(path.join(dataDir, "PG_VERSION"))) await initdbInChild(dataDir);
    const startParams = options.sharedBuffersMb === undefined ? undefined : [...PGlite.defaultStartParams, "-c", `shared_buffers=${options.sharedBuffersMb}MB`];
    const db = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), ...(startParams ? { startParams } : {}) });
    if (dataDir !== undefined) privatizeTree(dataDir);
    return new PgliteSql(db, options.onClose, dataDir);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    if (params === undefined) {
      // The simple protocol, like pg without parameters: allows several statements (migrations).
      const results = await this.db.exec(text);
      return ((results.at(-1)?.rows ?? []) as R[]).map((row) => normalizeRow(row));
    }
    const result = await this.db.query<R>(text, params as unknown[]);
    return result.rows.map((row) => normalizeRow(row));
  }

  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    return this.exclusive(() => this.run<R>(text, params));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.db.exec("BEGIN");
      try {
        const value = await fn({ query: (text, params) => this.run(text, params) });
        await this.db.exec("COMMIT");
        return value;
      } catch (error) {
        await this.db.exec("ROLLBACK").catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    try {
      await this.exclusive(() => this.db.close());
      if (this.dataDir !== undefined) privatizeTree(this.dataDir);
    } finally {
      this.onClose?.();
    }
  }
}

/** PGlite returns BIGINT as bigint and BYTEA as Uint8Array; match what the pg adapter returns. */
function normalizeRow<R>(row: R): R {
  const record = row as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (typeof value === "bigint") record[key] = Number(value);
    else if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      record[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return row;
}
