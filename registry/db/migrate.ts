import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Sql } from "./sql";

const MIGRATIONS_DIR = path.join(__dirname, "migrations");
const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same on every node that shares the database.
const MIGRATION_LOCK_KEY = 0x6265727468; // "berth"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => FILE_PATTERN.test(file)).sort();
  return Promise.all(
    files.map(async (file) => {
      const [, version, name] = FILE_PATTERN.exec(file)!;
      return { version: Number(version), name, sql: await readFile(path.join(dir, file), "utf8") };
    }),
  );
}

/**
 * Applies the migrations the database has not seen yet, in order, in one transaction that holds an advisory
 * lock, so that two nodes starting together neither race nor apply anything twice. Returns what it applied.
 */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const pending = migrations ?? (await loadMigrations());
  return sql.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await tx.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version));
    const applied: string[] = [];
    for (const migration of pending) {
      if (done.has(migration.version)) continue;
      await tx.query(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(`${String(migration.version).padStart(3, "0")}_${migration.name}`);
    }
    return applied;
  });
}

/** Migrations this build has that the database has not applied (read-only: for `berth doctor`). */
export async function pendingMigrations(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const [table] = await sql.query<{ name: string | null }>("SELECT to_regclass('schema_migrations')::text AS name");
  const done = new Set(table?.name ? (await sql.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version) : []);
  return all.filter((m) => !done.has(m.version)).map((m) => `${String(m.version).padStart(3, "0")}_${m.name}`);
}
