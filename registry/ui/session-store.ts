import type { PrincipalGroup } from "../auth/principal";
import type { Queryable } from "../db/sql";

/** A live session's row: whose it is and its two clocks. */
export interface SessionRow {
  userId: number;
  username: string;
  sysadmin: boolean;
  /** The groups the identity source gave the user at sign-in. */
  groups: PrincipalGroup[];
  createdAt: Date;
  lastSeenAt: Date;
}

/** The ui_sessions table (migration 030), keyed by the SHA-256 of the session id; no policy lives here. */
export class SessionStore {
  constructor(private readonly db: Queryable) {}

  async insert(idHash: Buffer, userId: number, now: Date, groups: readonly PrincipalGroup[] = []): Promise<void> {
    await this.db.query(
      `INSERT INTO ui_sessions (id_hash, user_id, password_stamp, created_at, last_seen_at, groups)
       SELECT $1, id, md5(password_hash), $3, $3, $4::jsonb FROM users WHERE id = $2`,
      [idHash, userId, now, JSON.stringify(groups)],
    );
  }

  /**
   * The session and its user as they are now (a user whose sysadmin flag changed is seen changed at once); none when
   * the user's password changed since the session began.
   */
  async find(idHash: Buffer): Promise<SessionRow | null> {
    const [row] = await this.db.query<{ user_id: number; username: string; sysadmin: boolean; groups: PrincipalGroup[]; created_at: Date; last_seen_at: Date }>(
      `SELECT s.user_id, u.username, u.sysadmin, s.groups, s.created_at, s.last_seen_at
         FROM ui_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.password_stamp = md5(u.password_hash)`,
      [idHash],
    );
    if (!row) return null;
    return { userId: row.user_id, username: row.username, sysadmin: row.sysadmin, groups: row.groups, createdAt: new Date(row.created_at), lastSeenAt: new Date(row.last_seen_at) };
  }

  async touch(idHash: Buffer, now: Date): Promise<void> {
    await this.db.query("UPDATE ui_sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2", [idHash, now]);
  }

  async delete(idHash: Buffer): Promise<void> {
    await this.db.query("DELETE FROM ui_sessions WHERE id_hash = $1", [idHash]);
  }

  /** Removes sessions past either limit; returns how many went. */
  async purgeExpired(idleBefore: Date, createdBefore: Date): Promise<number> {
    const rows = await this.db.query("DELETE FROM ui_sessions WHERE last_seen_at < $1 OR created_at < $2 RETURNING 1", [idleBefore, createdBefore]);
    return rows.length;
  }
}
