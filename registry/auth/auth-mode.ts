import type { Queryable, Sql } from "../db/sql";

/** Where users other than the built-in admin sign in (BERTH_AUTH_MODE); the admin always signs in locally. */
export const AUTH_MODES = ["db", "ldap", "oidc"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Harbor's names, as /systeminfo and /configurations report auth_mode. */
export const HARBOR_AUTH_MODE: Record<AuthMode, string> = { db: "db_auth", ldap: "ldap_auth", oidc: "oidc_auth" };

export function isAuthMode(value: string): value is AuthMode {
  return (AUTH_MODES as readonly string[]).includes(value);
}

/** A mode switch refused at start: Harbor's rule, users of the old source would not be those of the new one. */
export class AuthModeSwitchRefused extends Error {}

const SETTING = "auth_mode";

/** The mode the database was last started with; "db" for databases that never recorded one. */
export async function storedAuthMode(db: Queryable): Promise<AuthMode> {
  const [row] = await db.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [SETTING]);
  return row && isAuthMode(row.value) ? row.value : "db";
}

/**
 * Records `mode` as the registry's auth mode at start. Switching is refused while the database holds users other
 * than the built-in admin (they were made by the old source, and a new source's user of the same name would inherit
 * their memberships), unless `force` (BERTH_AUTH_MODE_FORCE=true). Starting in the recorded mode writes nothing, so a
 * registry that never sets BERTH_AUTH_MODE is untouched.
 */
export async function applyAuthMode(sql: Sql, mode: AuthMode, force: boolean): Promise<{ from: AuthMode; switched: boolean }> {
  const recorded = await storedAuthMode(sql);
  if (recorded === mode) return { from: recorded, switched: false };
  return sql.transaction(async (tx) => {
    // The row lock (or the insert's conflict) serialises two nodes starting with different modes.
    await tx.query("INSERT INTO settings (key, value) VALUES ($1, 'db') ON CONFLICT (key) DO NOTHING", [SETTING]);
    const [row] = await tx.query<{ value: string }>("SELECT value FROM settings WHERE key = $1 FOR UPDATE", [SETTING]);
    const from: AuthMode = isAuthMode(row.value) ? row.value : "db";
    if (from === mode) return { from, switched: false };
    const others = await tx.query<{ count: number }>("SELECT count(*)::int AS count FROM users WHERE username <> 'admin'");
    if (others[0].count > 0 && !force) {
      throw new AuthModeSwitchRefused(
        `BERTH_AUTH_MODE=${mode}, but this registry runs in ${from} mode and has ${others[0].count} user(s) besides admin; ` +
          "switching is refused as Harbor does (set BERTH_AUTH_MODE_FORCE=true to switch anyway)",
      );
    }
    await tx.query("UPDATE settings SET value = $2 WHERE key = $1", [SETTING, mode]);
    return { from, switched: true };
  });
}
