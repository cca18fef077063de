import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import type { Config } from "./config";
import { DataDirLockedError } from "./db/data-dir-lock";
import { pendingMigrations } from "./db/migrate";
import { openDatabase } from "./db/open";
import type { Sql } from "./db/sql";
import { recordedKeyCheck } from "./secrets/key-check";
import { readSecretBox, secretKeyPath } from "./secrets/secret-key";
import { checkBlobStore, openBlobStore } from "./storage/open";

export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do about it, when it failed. */
  fix?: string;
}

/** Clock skew between this host and the database beyond which token lifetimes and GC cutoffs become unreliable. */
const MAX_SKEW_MS = 30_000;

async function databaseFindings(config: Config, sql: Sql): Promise<Finding[]> {
  const findings: Finding[] = [];
  const before = Date.now();
  const [{ now }] = await sql.query<{ now: Date }>("SELECT clock_timestamp() AS now");
  const skew = now.getTime() - (before + Date.now()) / 2;
  findings.push({ check: "database", ok: true, detail: `${sql.kind} answers${config.databaseUrl ? ` at ${new URL(config.databaseUrl).host}` : ` in ${config.dataDir}`}` });
  const pending = await pendingMigrations(sql);
  findings.push(
    pending.length === 0
      ? { check: "migrations", ok: true, detail: "the schema is current" }
      : { check: "migrations", ok: false, detail: `${pending.length} not applied: ${pending.join(", ")}`, fix: "start `berth serve` once (it migrates on start), or check that every node runs the same version" },
  );
  findings.push(
    Math.abs(skew) <= MAX_SKEW_MS
      ? { check: "clock", ok: true, detail: `within ${Math.round(Math.abs(skew))} ms of the database's clock` }
      : { check: "clock", ok: false, detail: `${Math.round(skew / 1000)} s off the database's clock`, fix: "run NTP (chrony, systemd-timesyncd) on this host and the database host" },
  );
  return findings;
}

/** Whether the secret key is there, private, and the one the database's secrets are encrypted with. */
async function secretKeyFindings(config: Config, sql: Sql): Promise<Finding[]> {
  const file = secretKeyPath(config);
  // A database not migrated yet has no settings table: nothing is encrypted in it either.
  const recorded = await recordedKeyCheck(sql).catch(() => null);
  if (!existsSync(file)) {
    if (config.secretKeyFile === undefined && recorded === null) return [{ check: "secret key", ok: true, detail: `${file} is generated on the first start` }];
    return [{ check: "secret key", ok: false, detail: `${file} does not exist`, fix: "restore the key file the database was set up with and point BERTH_SECRET_KEY_FILE at it" }];
  }
  let checkValue: string;
  try {
    checkValue = readSecretBox(file).checkValue();
  } catch (error) {
    return [{ check: "secret key", ok: false, detail: (error as Error).message, fix: "chmod 600 the key file; it must hold 32 random bytes in base64" }];
  }
  if (recorded !== null && recorded !== checkValue) {
    return [{ check: "secret key", ok: false, detail: `${file} is not the key the database's secrets were encrypted with`, fix: "give this node the same BERTH_SECRET_KEY_FILE as the others" }];
  }
  const mode = (statSync(file).mode & 0o777).toString(8).padStart(4, "0");
  return [{ check: "secret key", ok: true, detail: `${file} (mode ${mode}) ${recorded === null ? "is not used by the database yet" : "is the key the database's secrets are encrypted with"}` }];
}

async function storeFindings(config: Config): Promise<Finding[]> {
  const store = await openBlobStore(config);
  const where = config.storage.kind === "s3" ? `bucket "${config.storage.bucket}" at ${config.storage.endpoint}` : `${config.dataDir}/blobs`;
  try {
    await checkBlobStore(store, config);
  } catch (error) {
    return [{ check: "blob store", ok: false, detail: (error as Error).message, fix: config.storage.kind === "s3" ? "fix the BERTH_S3_* settings or the bucket's policy" : "check BERTH_DATA_DIR and its permissions" }];
  }
  // Reading is not enough: a push writes, so write a probe through the upload path and remove it again.
  const id = `doctor-${randomUUID()}`;
  try {
    await store.startUpload(id);
    await store.appendUpload(id, Readable.from([Buffer.from("berth doctor")]));
    await store.abortUpload(id);
    return [{ check: "blob store", ok: true, detail: `${where} is readable and writable` }];
  } catch (error) {
    await store.abortUpload(id).catch(() => undefined);
    return [{ check: "blob store", ok: false, detail: `${where} cannot be written: ${(error as Error).message}`, fix: "grant write access (s3:PutObject, s3:DeleteObject) or fix the directory's permissions" }];
  }
}

/**
 * `berth doctor`: checks what `berth serve` needs and says what is wrong and how to fix it. Throws
 * DataDirLockedError while a server has the embedded database open.
 */
export async function doctor(config: Config): Promise<Finding[]> {
  let sql: Sql;
  try {
    sql = await openDatabase(config, "doctor");
  } catch (error) {
    // Not a finding: the database is fine, it is in use; the caller refuses with the holder's pid.
    if (error instanceof DataDirLockedError) throw error;
    return [{ check: "database", ok: false, detail: (error as Error).message, fix: "check BERTH_DATABASE_URL, that PostgreSQL runs and accepts this user" }, ...(await storeFindings(config))];
  }
  let database: Finding[];
  try {
    database = [...(await databaseFindings(config, sql)), ...(await secretKeyFindings(config, sql))];
  } catch (error) {
    database = [{ check: "database", ok: false, detail: (error as Error).message || String(error), fix: "check BERTH_DATABASE_URL, that PostgreSQL runs and accepts this user" }];
  } finally {
    await sql.close().catch(() => undefined);
  }
  return [...database, ...(await storeFindings(config))];
}

export function formatFindings(findings: Finding[]): string {
  return `${findings.map((f) => `${f.ok ? "ok  " : "FAIL"} ${f.check}: ${f.detail}${f.fix ? `\n     fix: ${f.fix}` : ""}`).join("\n")}\n`;
}
