import { verifyPassword } from "../auth/password";
import { containsPattern, type Queryable } from "../db/sql";

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

export interface NewUser {
  username: string;
  email: string | null;
  realname: string;
  comment: string;
  /** From hashPassword, computed before any transaction opens: scrypt is slow and PGlite serialises everything. */
  passwordHash: string;
}

// Never selects password_hash into a row: stored hashes stay in the database, this file and authenticate.ts.
const SELECT_USER = "SELECT id, username, email, realname, comment, sysadmin, created_at, updated_at FROM users";

export class UserStore {
  constructor(private readonly db: Queryable) {}

  async findById(id: number): Promise<UserRow | null> {
    const [row] = await this.db.query<UserRow>(`${SELECT_USER} WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** Whether `password` is the user's current one; false for an unknown user. */
  async passwordMatches(id: number, password: string): Promise<boolean> {
    const [row] = await this.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [id]);
    return row !== undefined && (await verifyPassword(password, row.password_hash));
  }

  /** Users whose name contains (fuzzy) or equals (exact) `username`, ordered by name. */
  async list(options: { username?: { value: string; fuzzy: boolean }; limit: number; offset: number }) {
    const params: unknown[] = [];
    let where = "";
    if (options.username) {
      const { value, fuzzy } = options.username;
      params.push(fuzzy ? containsPattern(value) : value);
      where = fuzzy ? " WHERE username ILIKE $1" : " WHERE username = $1";
    }
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM users${where}`, params);
    params.push(options.limit, options.offset);
    const rows = await this.db.query<UserRow>(
      `${SELECT_USER}${where} ORDER BY username LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return { rows, total };
  }

  /** Creates a user; null when the username is taken (the unique index decides, races included). */
  async create(user: NewUser, db: Queryable = this.db): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO users (username, email, realname, comment, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING id`,
      [user.username, user.email, user.realname, user.comment, user.passwordHash],
    );
    return rows[0]?.id ?? null;
  }

  /** Changes the given profile fields (undefined = keep, email null = clear); false when the user is gone. */
  async update(
    id: number,
    fields: { email?: string | null; realname?: string; comment?: string },
    db: Queryable = this.db,
  ): Promise<boolean> {
    const rows = await db.query(
      `UPDATE users SET email = CASE WHEN $2 THEN $3 ELSE email END, realname = COALESCE($4, realname),
              comment = COALESCE($5, comment), updated_at = now() WHERE id = $1 RETURNING id`,
      [id, fields.email !== undefined, fields.email ?? null, fields.realname ?? null, fields.comment ?? null],
    );
    return rows.length > 0;
  }

  async emailTaken(email: string, exceptId: number): Promise<boolean> {
    return (await this.db.query("SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2", [email, exceptId])).length > 0;
  }

  async setPasswordHash(id: number, passwordHash: string, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, passwordHash]);
    return rows.length > 0;
  }

  async setSysadmin(id: number, sysadmin: boolean, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("UPDATE users SET sysadmin = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, sysadmin]);
    return rows.length > 0;
  }

  /** Deletes a user and their memberships; projects they own stay, without an owner. */
  async delete(id: number, db: Queryable = this.db): Promise<boolean> {
    await db.query("DELETE FROM project_members WHERE entity_type = 'u' AND entity_id = $1", [id]);
    const rows = await db.query("DELETE FROM users WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }
}
