import type { FastifyInstance, FastifyRequest } from "fastify";
import { isRoleId, type RoleId } from "../auth/rbac";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { Queryable, Sql } from "../db/sql";
import { parseUserGroup, UserGroupError, type UserGroups } from "../groups/user-groups";
import { LdapUnavailableError, type LdapDirectory } from "../identity/ldap/directory";
import { onboardLdapUser } from "../identity/ldap/onboarding";
import { toMemberEntity } from "../projects/members";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";

type Params = { nameOrId: string };
type MemberParams = Params & { memberId: string };

function requireRole(value: unknown): RoleId {
  if (!isRoleId(value)) throw new HarborError("BAD_REQUEST", "role_id must be one of 1 (projectAdmin), 2 (developer), 3 (guest), 4 (maintainer), 5 (limitedGuest)");
  return value;
}

function memberId(request: FastifyRequest<{ Params: MemberParams }>): number {
  if (!/^\d{1,9}$/.test(request.params.memberId)) throw new HarborError("BAD_REQUEST", "member id must be a positive integer");
  return Number(request.params.memberId);
}

/** In ldap mode, the directory that users named by a member body but not yet signed in are looked up in. */
type MemberDirectory = Pick<LdapDirectory, "findUser">;

/**
 * The user a ProjectMember body names: `member_user.user_id`, `member_user.username`, or the short forms
 * `user_id` / `username` at the top level that scripts written against older Harbor send. In ldap mode a username
 * that never signed in is looked up in the directory and onboarded, as Harbor does, so a project admin need not wait
 * for a colleague's first sign-in to add them.
 */
async function resolveUser(db: Queryable, body: Record<string, unknown>, directory?: MemberDirectory): Promise<number> {
  const user = isJsonObject(body.member_user) ? body.member_user : body;
  const userId = user.user_id;
  const username = user.username;
  if (typeof userId === "number" && userId > 0) {
    const rows = await db.query("SELECT 1 FROM users WHERE id = $1", [userId]);
    if (rows.length === 0) throw new HarborError("BAD_REQUEST", `user ${userId} does not exist`);
    return userId;
  }
  if (typeof username === "string" && username !== "" && !username.includes("\0")) {
    const [row] = await db.query<{ id: number }>("SELECT id FROM users WHERE username = $1", [username]);
    if (row) return row.id;
    const person = directory ? await findInDirectory(directory, username) : null;
    if (!person) throw new HarborError("NOT_FOUND", `user ${username} not found${directory ? " here or in the LDAP directory" : ""}`);
    return (await onboardLdapUser(db, person)).id;
  }
  throw new HarborError("BAD_REQUEST", "at least one of member_user or member_group must be provided");
}

/**
 * The group a `member_group` names: by `id`, or by `group_type` with `ldap_group_dn` (LDAP) or `group_name`; a group
 * named so that does not exist yet is created, as Harbor onboards it.
 */
async function resolveGroup(groups: UserGroups, memberGroup: Record<string, unknown>): Promise<number> {
  if (memberGroup.id !== undefined && memberGroup.id !== 0) {
    if (typeof memberGroup.id !== "number" || !Number.isInteger(memberGroup.id) || memberGroup.id < 1) throw new HarborError("BAD_REQUEST", "member_group.id must be a positive integer");
    if (!(await groups.get(memberGroup.id))) throw new HarborError("NOT_FOUND", `user group ${memberGroup.id} not found`);
    return memberGroup.id;
  }
  try {
    return await groups.ensure(parseUserGroup(memberGroup));
  } catch (error) {
    if (error instanceof UserGroupError) throw new HarborError("BAD_REQUEST", `member_group: ${error.message}`);
    throw error;
  }
}

async function findInDirectory(directory: MemberDirectory, username: string) {
  try {
    return await directory.findUser(username);
  } catch (error) {
    if (error instanceof LdapUnavailableError) throw new HarborError("SERVICE_UNAVAILABLE", `user ${username} is not known here and ${error.message}`);
    throw error;
  }
}

/** The member a ProjectMember body names: a user, or a group under `member_group`. */
async function resolveMember(deps: { sql: Queryable; groups: UserGroups; directory?: MemberDirectory }, body: Record<string, unknown>): Promise<{ type: "u" | "g"; id: number }> {
  if (body.member_group !== undefined && body.member_group !== null) {
    if (!isJsonObject(body.member_group)) throw new HarborError("BAD_REQUEST", "member_group must be an object");
    return { type: "g", id: await resolveGroup(deps.groups, body.member_group) };
  }
  return { type: "u", id: await resolveUser(deps.sql, body, deps.directory) };
}

/** /api/v2.0/projects/{p}/members: Harbor's member endpoints, checked against the member:* permissions. */
export function registerMemberRoutes(app: FastifyInstance, deps: ProjectAccessDeps & { sql: Sql; audit: AuditLog; groups: UserGroups; directory?: MemberDirectory }): void {
  const audited = (request: FastifyRequest, entry: AuditEntry, change: (tx: Queryable) => Promise<boolean>) =>
    deps.audit.change(actorOf(request), entry, change);
  const base = "/api/v2.0/projects/:nameOrId/members";

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "member", "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await deps.members.list(project.id, {
      entityName: queryString(request.query, "entityname"),
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    setPageHeaders(request, reply, page, total);
    return rows.map(toMemberEntity);
  });

  app.post<{ Params: Params }>(base, async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "member", "create");
    const body = jsonObjectBody(request);
    const role = requireRole(body.role_id);
    const member = await resolveMember(deps, body);
    const kind = member.type === "u" ? "user" : "group";
    let id: number | null = null;
    const entry: AuditEntry = { projectId: project.id, operation: "create", resourceType: "member", resource: `${project.name}/${kind}:${member.id}`, description: `add member ${kind} ${member.id} with role ${role}` };
    const add = member.type === "u" ? deps.members.addUser.bind(deps.members) : deps.members.addGroup.bind(deps.members);
    await audited(request, entry, async (tx) => (id = await add(project.id, member.id, role, tx)) !== null);
    if (id === null) throw new HarborError("CONFLICT", "The project member specified already exist");
    return reply.code(201).header("Location", `/api/v2.0/projects/${request.params.nameOrId}/members/${id}`).send();
  });

  app.get<{ Params: MemberParams }>(`${base}/:memberId`, async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "member", "read");
    const member = await deps.members.get(project.id, memberId(request));
    if (!member) throw new HarborError("NOT_FOUND", `member ${request.params.memberId} not found`);
    return toMemberEntity(member);
  });

  app.put<{ Params: MemberParams }>(`${base}/:memberId`, async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "member", "update");
    const body = jsonObjectBody(request);
    const [mid, role] = [memberId(request), requireRole(body.role_id)];
    const entry: AuditEntry = { projectId: project.id, operation: "update", resourceType: "member", resource: `${project.name}/member:${mid}`, description: `set role ${role}` };
    if (!(await audited(request, entry, (tx) => deps.members.updateRole(project.id, mid, role, tx)))) {
      throw new HarborError("NOT_FOUND", `member ${request.params.memberId} not found`);
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: MemberParams }>(`${base}/:memberId`, async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "member", "delete");
    const mid = memberId(request);
    const entry: AuditEntry = { projectId: project.id, operation: "delete", resourceType: "member", resource: `${project.name}/member:${mid}` };
    if (!(await audited(request, entry, (tx) => deps.members.remove(project.id, mid, tx)))) {
      throw new HarborError("NOT_FOUND", `member ${request.params.memberId} not found`);
    }
    return reply.code(200).send();
  });
}
