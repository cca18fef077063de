import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import { containsPattern, type Queryable } from "../db/sql";
import { highestFirst, ROLE_NAMES, ROLES, type RoleId } from "../auth/rbac";
import type { PrincipalGroup } from "../auth/principal";
import { groupIdsMatching, groupKeys } from "../groups/user-groups";

export interface MemberRow {
  id: number;
  project_id: number;
  entity_id: number;
  entity_type: "u" | "g";
  entity_name: string;
  role_id: RoleId;
  /** Groups only: the group's type (1 LDAP, 2 HTTP, 3 OIDC) and its DN (LDAP). */
  group_type: number | null;
  ldap_group_dn: string | null;
}

// Users and groups alike (Harbor's members list shows both, entity_type "u" / "g", named by username / group name).
const SELECT_MEMBER = `
  SELECT * FROM (
    SELECT m.id, m.project_id, m.entity_id, m.entity_type, coalesce(u.username, g.group_name) AS entity_name, m.role_id,
           g.group_type, g.ldap_group_dn
      FROM project_members m
      LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id
      LEFT JOIN user_groups g ON m.entity_type = 'g' AND g.id = m.entity_id
     WHERE u.id IS NOT NULL OR g.id IS NOT NULL) AS m`;

/**
 * Harbor's ProjectMemberEntity; a group member also carries its group_type and ldap_group_dn (Berth addition: the
 * UI tells an LDAP group from an OIDC group of the same name, and shows the DN the name stands for).
 */
export function toMemberEntity(row: MemberRow) {
  const { group_type, ldap_group_dn, ...member } = row;
  const entity = { ...member, role_name: ROLE_NAMES[row.role_id] };
  return row.entity_type === "g" ? { ...entity, group_type, ldap_group_dn: ldap_group_dn ?? "" } : entity;
}

/** Project membership of users and of user groups (entity_type 'u' / 'g'). */
export class MemberStore {
  // Every request to a private project asks for the caller's roles; see ReadCache for staleness across nodes.
  private readonly roles = new ReadCache<RoleId[]>({ max: 10_000, ttlMs: CACHE_TTL_MS });

  constructor(private readonly db: Queryable) {}

  /**
   * The user's roles in the project: their own membership's and, for `groups` the identity source reported at
   * sign-in, those of the matching user groups' memberships (the permission matrix then takes their union).
   */
  rolesOf(userId: number, projectId: number, groups: readonly PrincipalGroup[] = []): Promise<RoleId[]> {
    const { dns, names } = groupKeys(groups);
    return this.roles.get(`${projectId}/${userId}/${JSON.stringify([dns, names])}`, async () => {
      const ownRoles = "SELECT role_id FROM project_members WHERE project_id = $1 AND entity_type = 'u' AND entity_id = $2";
      if (dns.length === 0 && names.length === 0) return (await this.db.query<{ role_id: RoleId }>(ownRoles, [projectId, userId])).map((r) => r.role_id);
      const rows = await this.db.query<{ role_id: RoleId }>(
        `${ownRoles}
         UNION ALL
         SELECT role_id FROM project_members WHERE project_id = $1 AND entity_type = 'g' AND entity_id IN (${groupIdsMatching("$3", "$4")})`,
        [projectId, userId, dns, names],
      );
      return rows.map((r) => r.role_id);
    }) as Promise<RoleId[]>;
  }

  /** The user's roles in each of `projectIds`, their groups' included as in rolesOf, highest first (one query for a page of projects). */
  async rolesIn(userId: number, projectIds: number[], groups: readonly PrincipalGroup[] = []): Promise<Map<number, RoleId[]>> {
    const { dns, names } = groupKeys(groups);
    const rows = await this.db.query<{ project_id: number; role_id: RoleId }>(
      `SELECT project_id, role_id FROM project_members WHERE entity_type = 'u' AND entity_id = $1 AND project_id = ANY($2::int[])
       UNION ALL
       SELECT project_id, role_id FROM project_members
        WHERE entity_type = 'g' AND project_id = ANY($2::int[]) AND entity_id IN (${groupIdsMatching("$3", "$4")})`,
      [userId, projectIds, dns, names],
    );
    const roles = new Map<number, RoleId[]>(projectIds.map((id) => [id, []]));
    for (const row of rows) roles.get(row.project_id)!.push(row.role_id);
    for (const [projectId, held] of roles) roles.set(projectId, highestFirst(held));
    return roles;
  }

  /** Ids of the projects where the user holds any role. */
  async projectsOf(userId: number): Promise<number[]> {
    const rows = await this.db.query<{ project_id: number }>(
      "SELECT project_id FROM project_members WHERE entity_type = 'u' AND entity_id = $1",
      [userId],
    );
    return rows.map((r) => r.project_id);
  }

  /** Whether the user is a project admin of at least one project. */
  async administersAny(userId: number): Promise<boolean> {
    const rows = await this.db.query(
      "SELECT 1 FROM project_members WHERE entity_type = 'u' AND entity_id = $1 AND role_id = $2 LIMIT 1",
      [userId, ROLES.projectAdmin],
    );
    return rows.length > 0;
  }

  async list(projectId: number, options: { entityName?: string; limit: number; offset: number }) {
    const params: unknown[] = [projectId];
    let filter = "";
    if (options.entityName) {
      params.push(containsPattern(options.entityName));
      filter = ` AND m.entity_name ILIKE $2`;
    }
    const [{ total }] = await this.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM (${SELECT_MEMBER} WHERE m.project_id = $1${filter}) AS matching`,
      params,
    );
    const rows = await this.db.query<MemberRow>(
      `${SELECT_MEMBER} WHERE m.project_id = $1${filter} ORDER BY m.id LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows, total };
  }

  async get(projectId: number, memberId: number): Promise<MemberRow | null> {
    const [row] = await this.db.query<MemberRow>(`${SELECT_MEMBER} WHERE m.project_id = $1 AND m.id = $2`, [projectId, memberId]);
    return row ?? null;
  }

  /** Adds a user; null when the user is already a member. */
  async addUser(projectId: number, userId: number, roleId: RoleId, db: Queryable = this.db): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO project_members (project_id, entity_id, entity_type, role_id) VALUES ($1, $2, 'u', $3)
       ON CONFLICT (project_id, entity_id, entity_type) DO NOTHING RETURNING id`,
      [projectId, userId, roleId],
    );
    this.roles.deletePrefix(`${projectId}/${userId}/`);
    return rows[0]?.id ?? null;
  }

  async updateRole(projectId: number, memberId: number, roleId: RoleId, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query<{ entity_id: number; entity_type: "u" | "g" }>(
      "UPDATE project_members SET role_id = $3, updated_at = now() WHERE project_id = $1 AND id = $2 RETURNING entity_id, entity_type",
      [projectId, memberId, roleId],
    );
    rows.forEach((r) => this.forgetRolesOf(projectId, r));
    return rows.length > 0;
  }

  async remove(projectId: number, memberId: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query<{ entity_id: number; entity_type: "u" | "g" }>(
      "DELETE FROM project_members WHERE project_id = $1 AND id = $2 RETURNING entity_id, entity_type",
      [projectId, memberId],
    );
    rows.forEach((r) => this.forgetRolesOf(projectId, r));
    return rows.length > 0;
  }

  /** Adds a user group; null when the group is already a member. */
  async addGroup(projectId: number, groupId: number, roleId: RoleId, db: Queryable = this.db): Promise<number | null> {
    const rows = await db.query<{ id: number }>(
      `INSERT INTO project_members (project_id, entity_id, entity_type, role_id) VALUES ($1, $2, 'g', $3)
       ON CONFLICT (project_id, entity_id, entity_type) DO NOTHING RETURNING id`,
      [projectId, groupId, roleId],
    );
    this.roles.deletePrefix(`${projectId}/`);
    return rows[0]?.id ?? null;
  }

  /** A user's change touches their own entries; a group's, anyone's in the project. */
  private forgetRolesOf(projectId: number, member: { entity_id: number; entity_type: "u" | "g" }): void {
    this.roles.deletePrefix(member.entity_type === "u" ? `${projectId}/${member.entity_id}/` : `${projectId}/`);
  }

  /** Forgets cached roles, e.g. after a user was deleted. */
  forgetAll(): void {
    this.roles.clear();
  }
}
