import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../config";
import { SECRET_KEY_BYTES, SecretBox } from "./secret-box";

/** The key file's name in the data directory when BERTH_SECRET_KEY_FILE is unset (Harbor keeps its `secretkey` so). */
export const DEFAULT_SECRET_KEY_FILE = "secretkey";

const VARIABLE = "BERTH_SECRET_KEY_FILE";

/** The key file a configuration uses: BERTH_SECRET_KEY_FILE, else `<dataDir>/secretkey`. */
export function secretKeyPath(config: { secretKeyFile?: string; dataDir: string }): string {
  return config.secretKeyFile ?? path.join(config.dataDir, DEFAULT_SECRET_KEY_FILE);
}

/** 32 random bytes, base64 on one line: what `openssl rand -base64 32` prints, and what a first start writes. */
export function newSecretKeyText(): string {
  return `${randomBytes(SECRET_KEY_BYTES).toString("base64")}\n`;
}

/**
 * Writes a new key to `file` unless one is there. The file appears whole or not at all (written aside with mode
 * 0600, then hard-linked into place, which fails if it exists), so two nodes sharing a data dir agree on one key.
 */
function createKeyFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const draft = `${file}.${process.pid}.new`;
  writeFileSync(draft, newSecretKeyText(), { mode: 0o600, flag: "w" });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(draft);
  }
}

/** Why `file`'s permissions are unsafe, or null: other users must not read (or replace) the key. */
export function keyFileModeProblem(mode: number): string | null {
  if ((mode & 0o007) === 0) return null;
  return `is readable or writable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): chmod 600 it`;
}

/** The key in `file`; ConfigError (naming BERTH_SECRET_KEY_FILE) when it is missing, exposed or malformed. */
export function readSecretBox(file: string): SecretBox {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    throw new ConfigError(VARIABLE, `cannot read ${file}: ${(error as Error).message}`);
  }
  const problem = keyFileModeProblem(stat.mode);
  if (problem) throw new ConfigError(VARIABLE, `${file} ${problem}`);
  const text = readFileSync(file, "utf8").trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, "base64") : Buffer.alloc(0);
  if (key.length !== SECRET_KEY_BYTES) {
    throw new ConfigError(VARIABLE, `${file} must hold ${SECRET_KEY_BYTES} random bytes, base64-encoded on one line (openssl rand -base64 32)`);
  }
  return new SecretBox(key, file);
}

/**
 * The key secrets are encrypted with at rest. From BERTH_SECRET_KEY_FILE when set (it must exist); otherwise from
 * `<dataDir>/secretkey`, generated on the first start. Refused when other users may read it or it is not 32 bytes.
 */
export function loadSecretBox(config: { secretKeyFile?: string; dataDir: string }): SecretBox {
  const file = secretKeyPath(config);
  if (config.secretKeyFile === undefined) createKeyFile(file);
  return readSecretBox(file);
}
