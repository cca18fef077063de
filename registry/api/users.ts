import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { Authenticator } from "../auth/authenticate";
import { hashPassword } from "../auth/password";
import { canSystem, permissionsIn, type ActionName } from "../auth/rbac";
import type { Authorizer } from "../auth/authorizer";
import { isSysadmin, type Principal } from "../auth/principal";
import type { Queryable, Sql } from "../db/sql";
import type { MemberStore } from "../projects/members";
import type { ProjectStore } from "../projects/projects";
import type { ProjectCreationRule } from "../projects/creation-restriction";
import { systemPermissions } from "../auth/system-permissions";
import { passwordProblem, usernameProblem } from "../users/password-policy";
import type { UserRow, UserStore } from "../users/store";
import { HARBOR_AUTH_MODE, type AuthMode } from "../auth/auth-mode";
import { generateCliSecret, type OidcCliSecrets } from "../identity/oidc/cli-secret";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { deny, requireSystem } from "./project-access";
import { systemTarget } from "../auth/refusal";
import { parseQuery } from "./query";

export interface UserRouteDeps {
  sql: Sql;
  users: UserStore;
  audit: AuditLog;
  authenticator: Authenticator;
  members: MemberStore;
  projects: ProjectStore;
  authorizer: Authorizer;
  creationRule: ProjectCreationRule;
  /** BERTH_AUTH_MODE; unset → db. */
  authMode?: AuthMode;
  /** Set in oidc mode: the users' CLI secrets. */
  cliSecrets?: OidcCliSecrets;
}

/** The id of the user created on first start; Harbor refuses to delete or demote it. */
const BUILT_IN_ADMIN_ID = 1;

function toApi(user: UserRow) {
  return {
    user_id: user.id,
    username: user.username,
    email: user.email ?? "",
    realname: user.realname,
    comment: user.comment,
    sysadmin_flag: user.sysadmin,
    creation_time: user.created_at,
    update_time: user.updated_at,
  };
}

function optionalText(value: unknown, field: string, max = 255): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > max || value.includes("\0")) {
    throw new HarborError("BAD_REQUEST", `${field} must be a string of at most ${max} characters`);
  }
  return value;
}

function optionalEmail(value: unknown): string | null | undefined {
  const email = optionalText(value, "email");
  if (email === undefined || email === "") return email === "" ? null : undefined;
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new HarborError("BAD_REQUEST", "email is not a valid address");
  return email;
}

function userId(request: FastifyRequest<{ Params: { id: string } }>): number {
  if (!/^\d{1,9}$/.test(request.params.id)) throw new HarborError("BAD_REQUEST", "user id must be a positive integer");
  return Number(request.params.id);
}

/** Sysadmins, and system robots granted `user:<action>`. */
function requireUserManagement(principal: Principal, action: ActionName): void {
  requireSystem(principal, "user", action);
}

const isSelf = (principal: Principal, id: number) => principal.kind === "user" && principal.id === id;

/** Users may act on themselves; user managers on anyone. */
function requireSelfOrManager(principal: Principal, id: number, action: ActionName): void {
  if (isSelf(principal, id)) return;
  requireUserManagement(principal, action);
}

/**
 * A system admin's account is changed by system admins only: a robot granted user:update or user:delete could
 * otherwise take it over or remove it.
 */
function requireSysadminToTouch(principal: Principal, user: UserRow, action: ActionName): void {
  if (user.sysadmin && !isSysadmin(principal) && !isSelf(principal, user.id)) deny(principal, action, "system admins");
}

/** /api/v2.0/users: Harbor's database-auth user management. */
export function registerUserRoutes(app: FastifyInstance, deps: UserRouteDeps): void {
  const { users } = deps;
  const find = async (id: number) => {
    const user = await users.findById(id);
    if (!user) throw new HarborError("NOT_FOUND", `user ${id} not found`);
    return user;
  };
  /** Runs a change and, when it happened (truthy result), its audit record in the same transaction. */
  const auditedChange = <T>(
    request: FastifyRequest,
    entry: Pick<AuditEntry, "operation" | "resource" | "description">,
    change: (tx: Queryable) => Promise<T>,
  ): Promise<T> =>
    deps.audit.change(actorOf(request), { ...entry, projectId: null, resourceType: "user" }, change);
  /** A user deleted between our read and our write is as gone as one that never existed. */
  const mustHaveChanged = (changed: boolean, id: number) => {
    if (!changed) throw new HarborError("NOT_FOUND", `user ${id} not found`);
  };
  /**
   * Refuses an email another account holds, but only to callers who may list users and so see the addresses
   * anyway; for everyone else the answer must not tell which addresses are in use (emails are not unique).
   */
  const refuseTakenEmail = async (principal: Principal, email: string | null | undefined, exceptId: number) => {
    if (!email || !canSystem(principal, "user", "list")) return;
    if (await users.emailTaken(email, exceptId)) throw new HarborError("CONFLICT", "email is already taken");
  };

  app.get("/api/v2.0/users", async (request, reply) => {
    requireUserManagement(request.principal, "list");
    const page = paging(request.query as Record<string, unknown>);
    const [term] = parseQuery(queryString(request.query, "q"), ["username"]);
    const username = term?.kind === "exact" || term?.kind === "fuzzy" ? { value: term.value, fuzzy: term.kind === "fuzzy" } : undefined;
    const { rows, total } = await users.list({ username, limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  const authMode = deps.authMode ?? "db";
  /** Harbor's answer to Harbor's /users calls that only database users have a use for, in ldap and oidc mode. */
  const requireDbMode = (what: string) => {
    if (authMode !== "db") throw new HarborError("FORBIDDEN", `${what} is not allowed under auth mode ${HARBOR_AUTH_MODE[authMode]}: users come from the ${authMode === "ldap" ? "LDAP directory" : "OIDC provider"}`);
  };
  /** Harbor's oidc_user_meta for OIDC-linked users (never the CLI secret, which Berth keeps only as a hash). */
  const withOidcMeta = async (user: UserRow) => {
    const link = await deps.cliSecrets?.link(user.id);
    if (!link) return toApi(user);
    return { ...toApi(user), oidc_user_meta: { subiss: `${link.subject}${link.issuer}`, cli_secret_created: link.cliSecretCreated } };
  };

  app.post("/api/v2.0/users", async (request, reply) => {
    requireDbMode("creating local users");
    requireUserManagement(request.principal, "create");
    const input = jsonObjectBody(request);
    const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
    if (problem) throw new HarborError("BAD_REQUEST", problem);
    const username = input.username as string;
    const fields = {
      username,
      email: optionalEmail(input.email) ?? null,
      realname: optionalText(input.realname, "realname") ?? "",
      comment: optionalText(input.comment, "comment", 30) ?? "",
      passwordHash: await hashPassword(input.password as string),
    };
    await refuseTakenEmail(request.principal, fields.email, 0);
    const id = await auditedChange(request, { operation: "create", resource: username }, (tx) => users.create(fields, tx));
    if (id === null) throw new HarborError("CONFLICT", `username ${username} is already taken`);
    return reply.code(201).header("Location", `/api/v2.0/users/${id}`).send();
  });

  app.get("/api/v2.0/users/current", async (request) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "read", "the current user");
    if (principal.kind === "robot") throw new HarborError("FORBIDDEN", "a robot account is not a user");
    return withOidcMeta(await find(principal.id));
  });

  // Harbor's scopes: `/project/{id}` (the caller's roles or robot grants there, public grants included) and `/system`.
  app.get("/api/v2.0/users/current/permissions", async (request) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "read", "the current user's permissions");
    const scope = queryString(request.query, "scope") ?? "";
    const relative = queryString(request.query, "relative") === "true";
    const named = (resource: string) => (resource === "" ? (relative ? "." : scope) : relative ? resource : `${scope}/${resource}`);
    if (scope === "/system") {
      return systemPermissions(principal, await deps.creationRule.current()).map(({ resource, action }) => ({ resource: named(resource), action }));
    }
    const match = /^\/project\/(\d{1,9})$/.exec(scope);
    if (!match) throw new HarborError("BAD_REQUEST", "scope must be /project/<id> or /system");
    const project = await deps.projects.findById(Number(match[1]));
    if (!project) return [];
    return permissionsIn(principal, await deps.authorizer.grantIn(principal, project)).map(({ resource, action }) => ({
      resource: named(resource === "project" ? "" : resource),
      action,
    }));
  });

  // Harbor lets every user search; here only those who hand out memberships (project admins) or manage users may.
  app.get("/api/v2.0/users/search", async (request, reply) => {
    const principal = request.principal;
    const allowed = canSystem(principal, "user", "list") || (principal.kind === "user" && (await deps.members.administersAny(principal.id)));
    if (!allowed) deny(principal, "search", systemTarget("user"));
    const name = queryString(request.query, "username");
    if (!name) throw new HarborError("BAD_REQUEST", "username is required");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await users.list({ username: { value: name, fuzzy: true }, limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    setPageHeaders(request, reply, page, total);
    return rows.map((user) => ({ user_id: user.id, username: user.username }));
  });

  app.get<{ Params: { id: string } }>("/api/v2.0/users/:id", async (request) => {
    const id = userId(request);
    requireSelfOrManager(request.principal, id, "read");
    return withOidcMeta(await find(id));
  });

  app.put<{ Params: { id: string } }>("/api/v2.0/users/:id", async (request, reply) => {
    const id = userId(request);
    requireSelfOrManager(request.principal, id, "update");
    const input = jsonObjectBody(request);
    const fields = {
      email: optionalEmail(input.email),
      realname: optionalText(input.realname, "realname"),
      comment: optionalText(input.comment, "comment", 30),
    };
    const user = await find(id);
    requireSysadminToTouch(request.principal, user, "update");
    await refuseTakenEmail(request.principal, fields.email, id);
    const entry = { operation: "update", resource: user.username } as const;
    mustHaveChanged(await auditedChange(request, entry, (tx) => users.update(id, fields, tx)), id);
    return reply.code(200).send();
  });

  app.put<{ Params: { id: string } }>("/api/v2.0/users/:id/password", async (request, reply) => {
    const id = userId(request);
    const principal = request.principal;
    const self = isSelf(principal, id);
    // Setting someone else's password is logging in as them: only a system admin may, never a robot.
    if (!self && !isSysadmin(principal)) deny(principal, "update", "the passwords of other users");
    // As Harbor: with another identity source, only the built-in admin has a password here (its way back in).
    if (id !== BUILT_IN_ADMIN_ID) requireDbMode("changing the password of a user other than the built-in admin");
    const input = jsonObjectBody(request);
    const user = await find(id);
    const newPassword = input.new_password;
    const problem = passwordProblem(newPassword);
    if (problem) throw new HarborError("BAD_REQUEST", problem);
    // An admin resetting someone else's password needs no old one; everybody changing their own does.
    if (self && (typeof input.old_password !== "string" || !(await users.passwordMatches(id, input.old_password)))) {
      throw new HarborError("FORBIDDEN", "the old password is wrong");
    }
    if (await users.passwordMatches(id, newPassword as string)) {
      throw new HarborError("BAD_REQUEST", "the new password must differ from the old one");
    }
    const passwordHash = await hashPassword(newPassword as string);
    const description = `change password of ${user.username}`;
    const entry = { operation: "update", resource: user.username, description } as const;
    mustHaveChanged(await auditedChange(request, entry, (tx) => users.setPasswordHash(id, passwordHash, tx)), id);
    deps.authenticator.forget(user.username);
    return reply.code(200).send();
  });

  /**
   * Who may set a CLI secret (the user, or a system admin: holding it is logging in as the user, so never a robot),
   * and whether it can exist: only in oidc mode, for users linked to the provider (412 PRECONDITION otherwise).
   */
  const cliSecretTarget = async (request: FastifyRequest<{ Params: { id: string } }>): Promise<UserRow> => {
    const id = userId(request);
    if (!isSelf(request.principal, id) && !isSysadmin(request.principal)) deny(request.principal, "update", "the CLI secrets of other users");
    const user = await find(id);
    if (authMode !== "oidc" || !deps.cliSecrets) {
      throw new HarborError("PRECONDITION", `unable to update CLI secret under auth mode ${HARBOR_AUTH_MODE[authMode]}: CLI secrets exist in oidc_auth mode only`);
    }
    if (!(await deps.cliSecrets.link(id))) {
      throw new HarborError("PRECONDITION", `user ${user.username} is not linked to the OIDC provider: only users who signed in through it have a CLI secret`);
    }
    return user;
  };
  const storeCliSecret = async (request: FastifyRequest, user: UserRow, secret: string, how: string) => {
    const secretHash = await hashPassword(secret);
    const entry = { operation: "update", resource: user.username, description: `${how} CLI secret of ${user.username}` } as const;
    mustHaveChanged(await auditedChange(request, entry, (tx) => deps.cliSecrets!.setSecretHash(user.id, secretHash, tx)), user.id);
    // The old secret stops working at once, remembered logins included.
    deps.authenticator.forget(user.username);
  };

  // Berth's addition: a random secret, shown in this answer only (it is kept as a scrypt hash, as passwords are).
  app.post<{ Params: { id: string } }>("/api/v2.0/users/:id/cli_secret", async (request, reply) => {
    const user = await cliSecretTarget(request);
    const secret = generateCliSecret();
    await storeCliSecret(request, user, secret, "generate");
    return reply.code(201).header("Cache-Control", "no-store").send({ secret });
  });

  // Harbor's: a secret the user chose, under the password rule.
  app.put<{ Params: { id: string } }>("/api/v2.0/users/:id/cli_secret", async (request, reply) => {
    const user = await cliSecretTarget(request);
    const secret = jsonObjectBody(request).secret;
    const problem = passwordProblem(secret);
    if (problem) throw new HarborError("BAD_REQUEST", problem.replace(/^password/, "secret"));
    await storeCliSecret(request, user, secret as string, "set");
    return reply.code(200).send();
  });

  app.put<{ Params: { id: string } }>("/api/v2.0/users/:id/sysadmin", async (request, reply) => {
    const id = userId(request);
    // Making someone a system admin hands out every permission: only a system admin may, never a robot.
    if (!isSysadmin(request.principal)) deny(request.principal, "update", "the system admin flag of users");
    const flag = jsonObjectBody(request).sysadmin_flag;
    if (typeof flag !== "boolean") throw new HarborError("BAD_REQUEST", "sysadmin_flag must be a boolean");
    if (id === BUILT_IN_ADMIN_ID && !flag) throw new HarborError("FORBIDDEN", "the built-in admin cannot be demoted");
    const user = await find(id);
    const description = `set sysadmin of ${user.username} to ${flag}`;
    const entry = { operation: "update", resource: user.username, description } as const;
    mustHaveChanged(await auditedChange(request, entry, (tx) => users.setSysadmin(id, flag, tx)), id);
    deps.authenticator.forget(user.username);
    return reply.code(200).send();
  });

  app.delete<{ Params: { id: string } }>("/api/v2.0/users/:id", async (request, reply) => {
    const id = userId(request);
    const principal = request.principal;
    requireUserManagement(principal, "delete");
    if (id === BUILT_IN_ADMIN_ID || (principal.kind === "user" && principal.id === id)) {
      throw new HarborError("FORBIDDEN", "this user cannot be deleted");
    }
    const user = await find(id);
    requireSysadminToTouch(principal, user, "delete");
    mustHaveChanged(await auditedChange(request, { operation: "delete", resource: user.username }, (tx) => users.delete(id, tx)), id);
    deps.authenticator.forget(user.username);
    deps.members.forgetAll();
    return reply.code(200).send();
  });
}
