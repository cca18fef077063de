import type { Queryable } from "../db/sql";
import { sealTarget, type WebhookTarget } from "../notifications/policies";
import { SEALED_PREFIX, SecretBox } from "./secret-box";

const BATCH = 500;
const PLAIN = `NOT LIKE '${SEALED_PREFIX}%'`;

function targetsNeedSealing(targets: WebhookTarget[]): boolean {
  return targets.some((target) => [target.auth_header, target.secret].some((value) => value !== "" && !SecretBox.isSealed(value)));
}

/**
 * Encrypts the secrets an older version stored in plain text: the token signing key, registry endpoint passwords,
 * webhook targets' Authorization headers and signing secrets (in policies and in queued or past deliveries).
 * Idempotent (sealed values are left alone) and safe with several nodes starting at once: each row is replaced only
 * if it still holds what was read. Returns how many rows it sealed.
 */
export async function resealStoredSecrets(db: Queryable, box: SecretBox): Promise<number> {
  let sealed = 0;
  const [key] = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'token_signing_key' AND value ${PLAIN}`);
  if (key) {
    sealed += (await db.query("UPDATE settings SET value = $1 WHERE key = 'token_signing_key' AND value = $2 RETURNING key", [box.seal(key.value), key.value])).length;
  }
  for (const row of await db.query<{ id: number; access_secret: string }>(`SELECT id, access_secret FROM registries WHERE access_secret <> '' AND access_secret ${PLAIN}`)) {
    const updated = await db.query("UPDATE registries SET access_secret = $2 WHERE id = $1 AND access_secret = $3 RETURNING id", [row.id, box.seal(row.access_secret), row.access_secret]);
    sealed += updated.length;
  }
  for (const row of await db.query<{ id: number; targets: WebhookTarget[] }>("SELECT id, targets FROM webhook_policies ORDER BY id")) {
    if (!targetsNeedSealing(row.targets)) continue;
    const updated = await db.query("UPDATE webhook_policies SET targets = $2 WHERE id = $1 AND targets = $3::jsonb RETURNING id", [
      row.id,
      JSON.stringify(row.targets.map((target) => sealTarget(box, target))),
      JSON.stringify(row.targets),
    ]);
    sealed += updated.length;
  }
  // Deliveries copy their policy's target; there may be many, so they go in batches.
  let after = 0;
  for (;;) {
    const rows = await db.query<{ id: number; target: WebhookTarget }>(
      `SELECT id, target FROM webhook_deliveries
        WHERE id > $1 AND ((target->>'auth_header' <> '' AND target->>'auth_header' ${PLAIN}) OR (target->>'secret' <> '' AND target->>'secret' ${PLAIN}))
        ORDER BY id LIMIT ${BATCH}`,
      [after],
    );
    for (const row of rows) {
      const updated = await db.query("UPDATE webhook_deliveries SET target = $2 WHERE id = $1 AND target = $3::jsonb RETURNING id", [
        row.id,
        JSON.stringify(sealTarget(box, row.target)),
        JSON.stringify(row.target),
      ]);
      sealed += updated.length;
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1].id;
  }
  return sealed;
}
