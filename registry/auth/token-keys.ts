import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Sql } from "../db/sql";
import type { SecretBox } from "../secrets/secret-box";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Key id for the JWT header: a short hash of the public key. */
  kid: string;
}

const SETTING = "token_signing_key";

function fromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: "spki", format: "der" });
  return { privateKey, publicKey, kid: createHash("sha256").update(der).digest("hex").slice(0, 16) };
}

/**
 * The ES256 key tokens are signed with: from BERTH_TOKEN_KEY_FILE, else generated once and kept in the database,
 * so that every node sharing it issues and accepts the same tokens. Two nodes starting together both try to
 * store theirs; the first insert wins and both read it back. Kept encrypted with the secret key: whoever reads the
 * database files could otherwise mint tokens for any repository.
 */
export async function loadSigningKey(sql: Sql, secrets: SecretBox, keyFile?: string): Promise<SigningKey> {
  if (keyFile) return fromPem(await readFile(keyFile, "utf8"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await sql.query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [SETTING, secrets.seal(pem)]);
  const [row] = await sql.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [SETTING]);
  return fromPem(secrets.open(row.value));
}
