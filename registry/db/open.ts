import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { Sql } from "./sql";
import { PgSql } from "./pg";
import { PgliteSql } from "./pglite";

/** PostgreSQL when a URL is configured, otherwise embedded PGlite under `<dataDir>/pg`. */
export async function openDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<Sql> {
  if (options.databaseUrl) return new PgSql(options.databaseUrl);
  const dir = path.join(options.dataDir, "pg");
  await mkdir(dir, { recursive: true });
  return PgliteSql.open(dir);
}
