import { migrate, loadMigrations } from "../../registry/db/migrate";
import { PgSql } from "../../registry/db/pg";
import type { Sql } from "../../registry/db/sql";
import { createTestDatabase, testPostgresUrl, openTestPglite } from "../support/database";

interface Adapter {
  name: string;
  open(): Promise<{ sql: Sql; reopen(): Sql | Promise<Sql>; cleanup(): Promise<void> }>;
}

const adapters: Adapter[] = [
  {
    name: "PGlite",
    open: async () => {
      const sql = await openTestPglite();
      return { sql, reopen: () => sql, cleanup: () => sql.close() };
    },
  },
];
const serverUrl = testPostgresUrl();
if (serverUrl) {
  adapters.push({
    name: "PostgreSQL",
    open: async () => {
      const database = await createTestDatabase(serverUrl);
      const opened: Sql[] = [new PgSql(database.url)];
      return {
        sql: opened[0],
        reopen: () => {
          const sql = new PgSql(database.url);
          opened.push(sql);
          return sql;
        },
        cleanup: async () => {
          await Promise.all(opened.map((s) => s.close()));
          await database.drop();
        },
      };
    },
  });
}

describe.each(adapters)("Sql adapter: $name", (adapter) => {
  let sql: Sql;
  let reopen: () => Sql | Promise<Sql>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ sql, reopen, cleanup } = await adapter.open());
    await migrate(sql);
  });
  afterAll(() => cleanup());

  it("applies every migration once and records it", async () => {
    const all = await loadMigrations();
    const rows = await sql.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
    expect(await migrate(sql)).toEqual([]);
  });

  it("runs migrations from two connections at once without applying anything twice", async () => {
    const other = await reopen();
    const extra = [{ version: 900, name: "concurrency_probe", sql: "CREATE TABLE concurrency_probe (id int)" }];
    const results = await Promise.all([migrate(sql, extra), migrate(other, extra)]);
    expect(results.flat()).toEqual(["900_concurrency_probe"]);
  });

  it("passes parameters and returns bigint and bytea as number and Buffer", async () => {
    const [row] = await sql.query<{ big: number; bytes: Buffer; text: string }>(
      "SELECT $1::bigint AS big, $2::bytea AS bytes, $3::text AS text",
      [2 ** 40, Buffer.from([0, 1, 2, 255]), "é"],
    );
    expect(row.big).toBe(2 ** 40);
    expect(Buffer.isBuffer(row.bytes)).toBe(true);
    expect([...row.bytes]).toEqual([0, 1, 2, 255]);
    expect(row.text).toBe("é");
  });

  it("round-trips a 4 MB BYTEA with every byte value intact", async () => {
    const bytes = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    const [row] = await sql.query<{ bytes: Buffer; length: number }>("SELECT $1::bytea AS bytes, length($1::bytea) AS length", [bytes]);
    expect(row.length).toBe(bytes.length);
    expect(Buffer.isBuffer(row.bytes)).toBe(true);
    expect(row.bytes.equals(bytes)).toBe(true);
  });

  it("keeps a database error's SQLSTATE, constraint and detail", async () => {
    await sql.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:twice"]);
    const error = await sql.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:twice"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "23505", constraint: "blobs_pkey", detail: expect.stringContaining("sha256:twice") });
    expect((error as Error).message).toMatch(/duplicate key/);
  });

  it("commits a transaction as a whole", async () => {
    await sql.transaction(async (tx) => {
      await tx.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:commit-a"]);
      await tx.query("INSERT INTO blobs (digest, size) VALUES ($1, 2)", ["sha256:commit-b"]);
    });
    const rows = await sql.query("SELECT digest FROM blobs WHERE digest LIKE 'sha256:commit-%'");
    expect(rows).toHaveLength(2);
  });

  it("rolls a transaction back when it throws, and rethrows", async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:rollback"]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await sql.query("SELECT 1 FROM blobs WHERE digest = 'sha256:rollback'")).toHaveLength(0);
  });

  it("keeps statements outside a transaction out of it while it runs", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tx = sql.transaction(async (t) => {
      await t.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:isolated"]);
      await held;
      throw new Error("abort");
    });
    // Give the transaction time to start before the outside statement is issued.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const outside = sql.query("INSERT INTO blobs (digest, size) VALUES ($1, 1)", ["sha256:outside"]);
    release();
    await expect(tx).rejects.toThrow("abort");
    await outside;
    const rows = await sql.query<{ digest: string }>(
      "SELECT digest FROM blobs WHERE digest IN ('sha256:isolated', 'sha256:outside') ORDER BY digest",
    );
    expect(rows.map((r) => r.digest)).toEqual(["sha256:outside"]);
  });
});
