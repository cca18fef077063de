import { randomBytes } from "node:crypto";
import { hashPassword } from "../../auth/password";
import type { Queryable } from "../../db/sql";
import { UserStore } from "../../users/store";
import type { LdapUser } from "./directory";

export interface OnboardedUser {
  id: number;
  username: string;
  sysadmin: boolean;
}

/**
 * The user row of a directory user, created at their first sign-in (or by /ldap/users/import). The row holds a
 * random password hash nobody knows: in ldap mode only the directory proves who a user is.
 */
export async function onboardLdapUser(db: Queryable, person: LdapUser): Promise<OnboardedUser> {
  const existing = await rowOf(db, person.username);
  if (existing) return existing;
  const passwordHash = await hashPassword(randomBytes(32).toString("base64"));
  const users = new UserStore(db);
  const profile = { username: person.username, realname: person.realname, comment: "onboarded from LDAP", passwordHash };
  // The unique indexes decide between two first sign-ins at once; an email another user holds is left out.
  const created = await users.create({ ...profile, email: person.email });
  if (created === null && !(await rowOf(db, person.username))) await users.create({ ...profile, email: null });
  const row = await rowOf(db, person.username);
  if (!row) throw new Error(`could not create the user row of ${person.username}`);
  return row;
}

async function rowOf(db: Queryable, username: string): Promise<OnboardedUser | null> {
  const [row] = await db.query<OnboardedUser>("SELECT id, username, sysadmin FROM users WHERE username = $1", [username]);
  return row ?? null;
}
