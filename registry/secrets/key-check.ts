import type { Queryable } from "../db/sql";
import { SecretKeyMismatchError, type SecretBox } from "./secret-box";

const SETTING = "secret_key_check";

/** The check value of the key the database's secrets are sealed with; null before any node with a key started. */
export async function recordedKeyCheck(db: Queryable): Promise<string | null> {
  const [row] = await db.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [SETTING]);
  return row?.value ?? null;
}

/**
 * Makes sure this node's key is the one the database's secrets are sealed with. The first node to start records its
 * key's check value; every later start compares. A node with another key (its own generated `secretkey` beside a
 * shared PostgreSQL, a lost or replaced key file) is refused at start instead of failing on every secret it reads.
 */
export async function verifySecretKey(db: Queryable, box: SecretBox): Promise<void> {
  await db.query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [SETTING, box.checkValue()]);
  if ((await recordedKeyCheck(db)) !== box.checkValue()) throw new SecretKeyMismatchError(box.keySource, "the database was set up with another secret key");
}
