import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { Sql } from "./sql";
import { lockDataDir } from "./data-dir-lock";
import { PgliteSql } from "./pglite";

/**
 * PostgreSQL when a URL is configured, otherwise embedded PGlite under `<dataDir>/pg`, locked for this process.
 * Only PGlite is locked: it is one process's private database, and two processes writing its files corrupt it.
 * With PostgreSQL the data dir holds only blobs and upload files, which nodes may share (two nodes on one database
 * and one directory or bucket is a supported setup).
 */
export async function openDatabase(
  options: { databaseUrl?: string; dataDir: string; pgliteSharedBuffersMb?: number },
  command = "serve",
): Promise<Sql> {
  if (options.databaseUrl) {
    // Each driver is loaded only when used: an embedded start does not need pg, nor PostgreSQL PGlite.
    const { PgSql } = await import("./pg");
    return new PgSql(options.databaseUrl);
  }
  const dir = path.join(options.dataDir, "pg");
  await mkdir(dir, { recursive: true });
  const lock = lockDataDir(options.dataDir, command);
  try {
    return await PgliteSql.open(dir, { sharedBuffersMb: options.pgliteSharedBuffersMb, onClose: lock.release });
  } catch (error) {
    lock.release();
    throw error;
  }
}
