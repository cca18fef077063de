import { GROUP_TYPES, type GroupType, type PrincipalGroup } from "../auth/principal";
import { containsPattern, type Queryable } from "../db/sql";

/** Harbor's UserGroup: an LDAP group (type 1, by DN), an HTTP group (2) or an OIDC group (3, by name). */
export interface UserGroupRow {
  id: number;
  group_name: string;
  group_type: GroupType;
  ldap_group_dn: string;
  created_at: Date;
  updated_at: Date;
}

export interface UserGroupInput {
  group_name: string;
  group_type: GroupType;
  ldap_group_dn: string;
}

/** A user group's fields, when the body cannot be stored. */
export class UserGroupError extends Error {}

const NAME_MAX = 255;
const DN_MAX = 1024;

export function isGroupType(value: unknown): value is GroupType {
  return value === GROUP_TYPES.ldap || value === GROUP_TYPES.http || value === GROUP_TYPES.oidc;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > max || /\p{Cc}/u.test(value)) {
    throw new UserGroupError(`${field} must be 1 to ${max} characters, without control characters`);
  }
  return value.trim();
}

/**
 * Checks a new group (Harbor's POST /usergroups): group_type 1 needs ldap_group_dn (its name defaults to the DN),
 * the others a group_name and no DN.
 */
export function parseUserGroup(body: Record<string, unknown>): UserGroupInput {
  const type = body.group_type;
  if (!isGroupType(type)) throw new UserGroupError("group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)");
  if (type === GROUP_TYPES.ldap) {
    const dn = tidyDn(text(body.ldap_group_dn, "ldap_group_dn", DN_MAX));
    const name = body.group_name === undefined || body.group_name === "" ? dn : text(body.group_name, "group_name", NAME_MAX);
    return { group_name: name, group_type: type, ldap_group_dn: dn };
  }
  if (body.ldap_group_dn !== undefined && body.ldap_group_dn !== "") throw new UserGroupError("ldap_group_dn is only for LDAP groups (group_type 1)");
  return { group_name: text(body.group_name, "group_name", NAME_MAX), group_type: type, ldap_group_dn: "" };
}

/** The name PUT /usergroups/{id} may change (Harbor changes only the name). */
export function parseGroupName(body: Record<string, unknown>): string {
  return text(body.group_name, "group_name", NAME_MAX);
}

/**
 * A DN without the spaces LDAP allows around its separators: directories answer "cn=devs,ou=groups", people write
 * "cn=devs, ou=groups", and both name one group. Stored and compared so (with lower()), a group is one row however it
 * was typed.
 */
export const tidyDn = (dn: string): string => dn.trim().replace(/\s*,\s*/g, ",");

/** How a principal's groups match user_groups rows: LDAP DNs case-insensitively, other groups by "type:name". */
export function groupKeys(groups: readonly PrincipalGroup[]): { dns: string[]; names: string[] } {
  const dns = groups.filter((g) => g.type === GROUP_TYPES.ldap).map((g) => tidyDn(g.name).toLowerCase());
  const names = groups.filter((g) => g.type !== GROUP_TYPES.ldap).map((g) => `${g.type}:${g.name}`);
  return { dns: [...new Set(dns)].sort(), names: [...new Set(names)].sort() };
}

/** SQL selecting the ids of the user groups `groupKeys` gave, its dns and names bound to `dnsParam` / `namesParam`. */
export function groupIdsMatching(dnsParam: string, namesParam: string): string {
  return `SELECT g.id FROM user_groups g
           WHERE (g.group_type = ${GROUP_TYPES.ldap} AND lower(g.ldap_group_dn) = ANY(${dnsParam}::text[]))
              OR (g.group_type <> ${GROUP_TYPES.ldap} AND g.group_type::text || ':' || g.group_name = ANY(${namesParam}::text[]))`;
}

const COLUMNS = "id, group_name, group_type, ldap_group_dn, created_at, updated_at";

/** The user_groups table (migration 034). */
export class UserGroups {
  constructor(private readonly db: Queryable) {}

  async get(id: number): Promise<UserGroupRow | null> {
    const [row] = await this.db.query<UserGroupRow>(`SELECT ${COLUMNS} FROM user_groups WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** The group a member_group body or a sign-in names: LDAP groups by DN (case-insensitive), others by name. */
  async find(type: GroupType, nameOrDn: string): Promise<UserGroupRow | null> {
    const [row] =
      type === GROUP_TYPES.ldap
        ? await this.db.query<UserGroupRow>(`SELECT ${COLUMNS} FROM user_groups WHERE group_type = 1 AND lower(ldap_group_dn) = lower($1)`, [tidyDn(nameOrDn)])
        : await this.db.query<UserGroupRow>(`SELECT ${COLUMNS} FROM user_groups WHERE group_type = $1 AND group_name = $2`, [type, nameOrDn]);
    return row ?? null;
  }

  /** Groups filtered by type, name (contains) and LDAP DN (exact, case-insensitive), ordered by name. */
  async list(options: { type?: GroupType; nameContains?: string; ldapDn?: string; limit: number; offset: number }): Promise<{ rows: UserGroupRow[]; total: number }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (options.type !== undefined) {
      params.push(options.type);
      where.push(`group_type = $${params.length}`);
    }
    if (options.nameContains !== undefined) {
      params.push(containsPattern(options.nameContains));
      where.push(`group_name ILIKE $${params.length}`);
    }
    if (options.ldapDn !== undefined) {
      params.push(tidyDn(options.ldapDn));
      where.push(`lower(ldap_group_dn) = lower($${params.length})`);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM user_groups ${clause}`, params);
    const rows = await this.db.query<UserGroupRow>(
      `SELECT ${COLUMNS} FROM user_groups ${clause} ORDER BY group_name, id LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows, total };
  }

  /** The new group's id, or null when one of that DN (LDAP) or name and type exists. */
  async create(input: UserGroupInput, db: Queryable = this.db): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      "INSERT INTO user_groups (group_name, group_type, ldap_group_dn) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
      [input.group_name, input.group_type, input.ldap_group_dn],
    );
    return rows[0]?.id ?? null;
  }

  /** The group's id, created first when no group has its DN (LDAP) or name and type (Harbor onboards so). */
  async ensure(input: UserGroupInput, db: Queryable = this.db): Promise<number> {
    const created = await this.create(input, db);
    if (created !== null) return created;
    const existing = await this.find(input.group_type, input.group_type === GROUP_TYPES.ldap ? input.ldap_group_dn : input.group_name);
    if (!existing) throw new Error(`user group ${input.group_name} conflicts with one that vanished`);
    return existing.id;
  }

  /** "missing", "taken" (another group of the type has the name; LDAP names may repeat, their DNs differ) or "ok". */
  async rename(id: number, name: string, db: Queryable = this.db): Promise<"ok" | "missing" | "taken"> {
    const rows = await db.query<{ id: number }>(
      `UPDATE user_groups g SET group_name = $2, updated_at = now() WHERE id = $1
          AND (group_type = 1 OR NOT EXISTS (SELECT 1 FROM user_groups o WHERE o.id <> g.id AND o.group_type = g.group_type AND o.group_name = $2))
       RETURNING id`,
      [id, name],
    );
    if (rows.length > 0) return "ok";
    return (await this.get(id)) ? "taken" : "missing";
  }

  /** Deletes the group and its project memberships (entity_id is shared with users, so no foreign key does it). */
  async delete(id: number, db: Queryable = this.db): Promise<boolean> {
    await db.query("DELETE FROM project_members WHERE entity_type = 'g' AND entity_id = $1", [id]);
    return (await db.query("DELETE FROM user_groups WHERE id = $1 RETURNING id", [id])).length > 0;
  }
}

/** Harbor's UserGroup object. */
export function userGroupToApi(group: UserGroupRow) {
  return { id: group.id, group_name: group.group_name, group_type: group.group_type, ldap_group_dn: group.ldap_group_dn };
}
