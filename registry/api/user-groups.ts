import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import { GROUP_TYPES, isSysadmin } from "../auth/principal";
import type { ActionName } from "../auth/rbac";
import type { Queryable } from "../db/sql";
import { isGroupType, parseGroupName, parseUserGroup, UserGroupError, userGroupToApi, type UserGroupRow, type UserGroups } from "../groups/user-groups";
import type { MemberStore } from "../projects/members";
import { HarborError } from "./errors";
import { positiveId } from "./labels";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { deny, requireSystem } from "./project-access";

export interface UserGroupRouteDeps {
  groups: UserGroups;
  members: MemberStore;
  audit: AuditLog;
}

type Params = { id: string };

function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UserGroupError) throw new HarborError("BAD_REQUEST", error.message);
    throw error;
  }
}

function typeFilter(query: Record<string, unknown>) {
  const given = queryString(query, "group_type");
  if (given === undefined) return undefined;
  const type = Number(given);
  if (!isGroupType(type)) throw new HarborError("BAD_REQUEST", "group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)");
  return type;
}

/**
 * /api/v2.0/usergroups: Harbor's user groups, managed by system admins (system user-group:*). /usergroups/search
 * (by name, id/name/type only) also answers project admins, who pick groups there to add as project members.
 */
export function registerUserGroupRoutes(app: FastifyInstance, deps: UserGroupRouteDeps): void {
  const { groups } = deps;

  async function groupFor(request: FastifyRequest<{ Params: Params }>, action: ActionName): Promise<UserGroupRow> {
    requireSystem(request.principal, "user-group", action);
    const group = await groups.get(positiveId(request.params.id, "user group id"));
    if (!group) throw new HarborError("NOT_FOUND", `user group ${request.params.id} not found`);
    return group;
  }

  const audited = <T>(request: FastifyRequest, group: { group_name: string }, operation: "create" | "update" | "delete", change: (tx: Queryable) => Promise<T>) =>
    deps.audit.change(actorOf(request), { projectId: null, operation, resourceType: "user-group", resource: group.group_name }, change);

  app.get("/api/v2.0/usergroups", async (request, reply) => {
    requireSystem(request.principal, "user-group", "list");
    const query = request.query as Record<string, unknown>;
    const page = paging(query);
    const { rows, total } = await groups.list({
      type: typeFilter(query),
      nameContains: queryString(query, "group_name") || undefined,
      ldapDn: queryString(query, "ldap_group_dn") || undefined,
      limit: page.pageSize,
      offset: (page.page - 1) * page.pageSize,
    });
    setPageHeaders(request, reply, page, total);
    return rows.map(userGroupToApi);
  });

  app.get("/api/v2.0/usergroups/search", async (request, reply) => {
    const { principal } = request;
    const allowed = isSysadmin(principal) || (principal.kind === "user" && (await deps.members.administersAny(principal.id)));
    if (!allowed) deny(principal, "search", "user groups");
    const query = request.query as Record<string, unknown>;
    const name = queryString(query, "groupname");
    if (!name) throw new HarborError("BAD_REQUEST", "groupname is required");
    const page = paging(query);
    const { rows, total } = await groups.list({ nameContains: name, limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    setPageHeaders(request, reply, page, total);
    return rows.map(({ id, group_name, group_type }) => ({ id, group_name, group_type }));
  });

  // Berth addition: the groups the caller's identity source gave at sign-in (LDAP by DN, OIDC by the groups claim),
  // whose project memberships count for them; the web UI's profile shows them. A stored group gives its name.
  app.get("/api/v2.0/users/current/groups", async (request) => {
    const { principal } = request;
    if (principal.kind === "anonymous") deny(principal, "read", "the current user's groups");
    if (principal.kind === "robot") throw new HarborError("FORBIDDEN", "a robot account is not a user");
    return Promise.all(
      (principal.groups ?? []).map(async ({ type, name }) => {
        const stored = await groups.find(type, name);
        if (stored) return { group_type: type, group_name: stored.group_name, ldap_group_dn: stored.ldap_group_dn };
        return { group_type: type, group_name: name, ldap_group_dn: type === GROUP_TYPES.ldap ? name : "" };
      }),
    );
  });

  app.post("/api/v2.0/usergroups", async (request, reply) => {
    requireSystem(request.principal, "user-group", "create");
    const input = parsed(() => parseUserGroup(jsonObjectBody(request)));
    const id = await audited(request, input, "create", (tx) => groups.create(input, tx));
    if (id === null) throw new HarborError("CONFLICT", `a user group ${input.group_type === 1 ? `with DN ${input.ldap_group_dn}` : `named ${input.group_name} of type ${input.group_type}`} already exists`);
    return reply.code(201).header("Location", `/api/v2.0/usergroups/${id}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/usergroups/:id", async (request) => userGroupToApi(await groupFor(request, "read")));

  // Harbor changes only the name; type and DN are the group's identity.
  app.put<{ Params: Params }>("/api/v2.0/usergroups/:id", async (request, reply) => {
    const group = await groupFor(request, "update");
    const name = parsed(() => parseGroupName(jsonObjectBody(request)));
    const outcome = await audited(request, group, "update", async (tx) => groups.rename(group.id, name, tx));
    if (outcome === "missing") throw new HarborError("NOT_FOUND", `user group ${request.params.id} not found`);
    if (outcome === "taken") throw new HarborError("CONFLICT", `another group of type ${group.group_type} is named ${name}`);
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/usergroups/:id", async (request, reply) => {
    const group = await groupFor(request, "delete");
    if (!(await audited(request, group, "delete", (tx) => groups.delete(group.id, tx)))) {
      throw new HarborError("NOT_FOUND", `user group ${request.params.id} not found`);
    }
    // Its memberships went with it: no cached role may outlive them.
    deps.members.forgetAll();
    return reply.code(200).send();
  });
}
