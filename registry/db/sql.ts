/**
 * The one seam between Berth and its metadata database. Two adapters implement it:
 * `pg.Pool` (PostgreSQL) and PGlite (embedded). Code above this layer never knows which.
 */
export interface Queryable {
  /** Runs one parameterised statement ($1, $2 …) and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Sql extends Queryable {
  readonly kind: "pg" | "pglite";
  /** Runs `fn` inside BEGIN … COMMIT; rolls back and rethrows when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** An ILIKE pattern matching values that contain `value`, with LIKE's wildcards in it taken literally. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
