import type { Sql } from "./db/sql";
import { generatePassword, hashPassword } from "./auth/password";

/**
 * First-start setup, idempotent and safe on two nodes: the admin user and the public `library` project
 * (as Harbor has). Returns the admin password when it generated one, so the caller can print it once.
 */
export async function bootstrap(sql: Sql, adminPassword: string | undefined): Promise<{ generatedPassword?: string }> {
  const password = adminPassword ?? generatePassword();
  const passwordHash = await hashPassword(password);
  return sql.transaction(async (tx) => {
    const created = await tx.query<{ id: number }>(
      `INSERT INTO users (username, password_hash, sysadmin) VALUES ('admin', $1, true)
       ON CONFLICT (username) DO NOTHING RETURNING id`,
      [passwordHash],
    );
    if (created.length === 0) return {}; // not the first start: a deleted `library` stays deleted
    await tx.query(
      `WITH library AS (
         INSERT INTO projects (name, owner_id, metadata) VALUES ('library', $1, '{"public":"true"}'::jsonb)
         ON CONFLICT (name) DO NOTHING RETURNING id)
       INSERT INTO project_members (project_id, entity_id, entity_type, role_id) SELECT id, $1, 'u', 1 FROM library`,
      [created[0].id],
    );
    return adminPassword === undefined ? { generatedPassword: password } : {};
  });
}
