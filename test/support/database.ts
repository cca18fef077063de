import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { PgSql } from "../../registry/db/pg";
import packageJson from "../../package.json";
import { PgliteSql } from "../../registry/db/pglite";
import type { Sql } from "../../registry/db/sql";

/**
 * The PostgreSQL server tests may use: BERTH_TEST_DATABASE_URL (CI sets it to the real server on 127.0.0.1:5432).
 * Unset → tests use embedded PGlite. Under CI=true it must be set, so the suite cannot silently skip PostgreSQL.
 */
export function testPostgresUrl(): string | undefined {
  const url = process.env.BERTH_TEST_DATABASE_URL || undefined;
  if (!url && process.env.CI === "true") throw new Error("BERTH_TEST_DATABASE_URL must be set under CI=true (see .ci/run)");
  return url;
}

/**
 * `describe` for suites that run several processes on one database, which needs a server (PGlite lives inside one
 * process). Without BERTH_TEST_DATABASE_URL the suite is skipped locally, the reason in its title; under CI=true
 * `testPostgresUrl` throws instead, so CI never skips it.
 */
export function describeWithPostgres(title: string, fn: () => void): void {
  if (testPostgresUrl()) describe(title, fn);
  else describe.skip(`${title} [skipped: needs a PostgreSQL server in BERTH_TEST_DATABASE_URL; CI=true requires one]`, fn);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates an empty database on the test server; `drop` removes it again. */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `berth_test_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A freshly created embedded database directory, initdb'd once per PGlite version and machine and kept under
 * ${TMPDIR}/berth-pglite-template-<version>: creating one costs ~5 s and ~7 s of CPU (PGlite runs initdb in
 * WebAssembly), copying the template ~0.1 s. Built under a name of its own and renamed into place, so suites starting
 * in parallel never copy half a template (the loser of the race throws its own copy away).
 */
async function pgliteTemplate(): Promise<string> {
  const version = packageJson.dependencies["@electric-sql/pglite"];
  const template = path.join(tmpdir(), `berth-pglite-template-${version}`);
  if (existsSync(path.join(template, "PG_VERSION"))) return template;
  const partial = await mkdtemp(`${template}.partial-`);
  try {
    const created = await PgliteSql.open(path.join(partial, "pg"));
    await created.close();
    await rename(path.join(partial, "pg"), template).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return template;
}

/**
 * Fills `pgDir` (which must not exist yet) with a copy of the template: what a first start's initdb would leave
 * there, so the server or test that opens it next skips initdb.
 */
export async function seedPgliteDir(pgDir: string): Promise<void> {
  const template = await pgliteTemplate();
  await mkdir(pgDir, { mode: 0o700 });
  await cp(template, pgDir, { recursive: true });
}

/**
 * An embedded database for one test, as a first start creates it (initdb, no migrations), in a temp directory of its
 * own that closing removes. The directory is a copy of the shared template, which is what makes it cheap.
 */
export async function openTestPglite(): Promise<PgliteSql> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-pglite-"));
  const dataDir = path.join(dir, "pg");
  try {
    await seedPgliteDir(dataDir);
    return await PgliteSql.open(dataDir, { onClose: () => rmSync(dir, { recursive: true, force: true }) });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Two handles on one database, as two nodes would have (PGlite: one handle stands for both). */
export interface Nodes {
  a: Sql;
  b: Sql;
  cleanup(): Promise<void>;
}

/** The databases node-level tests run against: embedded PGlite always, PostgreSQL when the test server is set. */
export function twoNodeSetups(): [string, () => Promise<Nodes>][] {
  const setups: [string, () => Promise<Nodes>][] = [
    [
      "PGlite",
      async () => {
        const sql = await openTestPglite();
        return { a: sql, b: sql, cleanup: () => sql.close() };
      },
    ],
  ];
  const serverUrl = testPostgresUrl();
  if (serverUrl) {
    setups.push([
      "PostgreSQL",
      async () => {
        const database = await createTestDatabase(serverUrl);
        const a = new PgSql(database.url);
        const b = new PgSql(database.url);
        return {
          a,
          b,
          cleanup: async () => {
            await Promise.all([a.close(), b.close()]);
            await database.drop();
          },
        };
      },
    ]);
  }
  return setups;
}
