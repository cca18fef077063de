import type { PGlite } from "@electric-sql/pglite";
import type { Queryable, Sql } from "./sql";

/**
 * Embedded PostgreSQL (PGlite). PGlite is a single database session, so a transaction must not interleave
 * with other statements: every statement and every transaction runs one at a time through `exclusive`.
 */
export class PgliteSql implements Sql {
  readonly kind = "pglite";
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: PGlite) {}

  /** Opens (or creates) the database in `dataDir`; in memory when dataDir is undefined. */
  static async open(dataDir?: string): Promise<PgliteSql> {
    const { PGlite } = await import("@electric-sql/pglite");
    const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    return new PgliteSql(db);
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
    await this.exclusive(() => this.db.close());
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
