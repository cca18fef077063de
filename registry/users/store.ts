import type { Queryable } from "../db/sql";

export interface UserRow {
  id: number;
  username: string;
  email: string | null;
  realname: string;
  comment: string;
  sysadmin: boolean;
  created_at: Date;
  updated_at: Date;
}

// Never selects password_hash: the hash stays in the database and in authenticate.ts.
const SELECT_USER = "SELECT id, username, email, realname, comment, sysadmin, created_at, updated_at FROM users";

function escapeLike(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class UserStore {
  constructor(private readonly db: Queryable) {}

  async findById(id: number): Promise<UserRow | null> {
    const [row] = await this.db.query<UserRow>(`${SELECT_USER} WHERE id = $1`, [id]);
    return row ?? null;
  }

  async passwordHashOf(id: number): Promise<string | null> {
    const [row] = await this.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [id]);
    return row?.password_hash ?? null;
  }

  /** Users whose name contains (fuzzy) or equals (exact) `username`, ordered by name. */
  async list(options: { username?: { value: string; fuzzy: boolean }; limit: number; offset: number }) {
    const params: unknown[] = [];
    let where = "";
    if (options.username) {
      params.push(options.username.fuzzy ? escapeLike(options.username.value) : options.username.value);
      where = options.username.fuzzy ? " WHERE username ILIKE $1" : " WHERE username = $1";
    }
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM users${where}`, params);
    const rows = await this.db.query<UserRow>(
      `${SELECT_USER}${where} ORDER BY username LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows, total };
  }

  /** Creates a user; null when the username or email is taken. */
  async create(
    user: { username: string; email: string | null; realname: string; comment: string; passwordHash: string },
    db: Queryable = this.db,
  ): Promise<number | null> {
    const taken = await db.query(
      "SELECT 1 FROM users WHERE username = $1 OR ($2::text IS NOT NULL AND lower(email) = lower($2))",
      [user.username, user.email],
    );
    if (taken.length > 0) return null;
    const rows = await db.query<{ id: number }>(
      `INSERT INTO users (username, email, realname, comment, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING id`,
      [user.username, user.email, user.realname, user.comment, user.passwordHash],
    );
    return rows[0]?.id ?? null;
  }

  async update(id: number, fields: { email?: string | null; realname?: string; comment?: string }): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE users SET email = CASE WHEN $2 THEN $3 ELSE email END, realname = COALESCE($4, realname),
              comment = COALESCE($5, comment), updated_at = now() WHERE id = $1 RETURNING id`,
      [id, fields.email !== undefined, fields.email ?? null, fields.realname ?? null, fields.comment ?? null],
    );
    return rows.length > 0;
  }

  async emailTaken(email: string, exceptId: number): Promise<boolean> {
    return (await this.db.query("SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2", [email, exceptId])).length > 0;
  }

  async setPasswordHash(id: number, passwordHash: string): Promise<void> {
    await this.db.query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", [id, passwordHash]);
  }

  async setSysadmin(id: number, sysadmin: boolean): Promise<boolean> {
    const rows = await this.db.query("UPDATE users SET sysadmin = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, sysadmin]);
    return rows.length > 0;
  }

  /** Deletes a user and their memberships. */
  async delete(id: number, db: Queryable = this.db): Promise<boolean> {
    await db.query("DELETE FROM project_members WHERE entity_type = 'u' AND entity_id = $1", [id]);
    const rows = await db.query("DELETE FROM users WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }
}
