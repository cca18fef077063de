import { Pool, types } from "pg";
import type { Queryable, Sql } from "./sql";

// BIGINT columns hold byte sizes and ids well below 2^53; return them as numbers, not strings.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

/** PostgreSQL through a pg.Pool. */
export class PgSql implements Sql {
  readonly kind = "pg";
  private readonly pool: Pool;

  constructor(connectionString: string, max = 10) {
    this.pool = new Pool({ connectionString, max });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on("error", () => undefined);
  }

  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    const result = await this.pool.query(text, params as unknown[] | undefined);
    return result.rows as R[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const tx: Queryable = {
        query: async <R>(text: string, params?: readonly unknown[]) =>
          (await client.query(text, params as unknown[] | undefined)).rows as R[],
      };
      const value = await fn(tx);
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
