import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { Authenticator } from "../auth/authenticate";
import { hashPassword } from "../auth/password";
import { isSysadmin, type Principal } from "../auth/principal";
import { canSystem, type ActionName, type Resource, type SystemResource } from "../auth/rbac";
import { grantableCatalogue, isGrantable } from "../auth/robot-catalogue";
import type { Queryable, Sql } from "../db/sql";
import { isValidProjectName, type ProjectRef } from "../projects/projects";
import { ROBOT_PREFIX, type RobotChange, type RobotLevel, type RobotPermission, type RobotRow, type RobotStore } from "../robots/store";
import { MAX_DURATION_DAYS } from "../settings/definitions";
import type { Settings } from "../settings/settings";
import { passwordProblem } from "../users/password-policy";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { authorizeIn, deny, requireSystem, type ProjectAccessDeps } from "./project-access";
import { projectTarget } from "../auth/refusal";
import { parseQuery } from "./query";

export interface RobotRouteDeps extends ProjectAccessDeps {
  sql: Sql;
  audit: AuditLog;
  robots: RobotStore;
  /** robot_token_duration: the lifetime of a robot created without a duration. */
  settings: Settings;
  authenticator: Authenticator;
}

// Harbor's robot name rule: no "+" or "$", which the full name uses as separators.
const ROBOT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random 32-character secret that meets the password policy (robots' secrets follow it, as in Harbor). */
export function generateSecret(): string {
  for (;;) {
    const secret = [...randomBytes(32)].map((byte) => SECRET_ALPHABET[byte % SECRET_ALPHABET.length]).join("");
    if (passwordProblem(secret) === null) return secret;
  }
}

const fullName = (robot: Pick<RobotRow, "name">) => `${ROBOT_PREFIX}${robot.name}`;

function toApi(robot: RobotRow) {
  return {
    id: robot.id,
    name: fullName(robot),
    description: robot.description,
    secret: "",
    level: robot.level,
    duration: robot.duration,
    editable: true,
    disable: robot.disabled,
    expires_at: robot.expires_at,
    permissions: robot.permissions.map((p) => ({
      kind: p.kind,
      namespace: p.namespace,
      access: p.access.map((a) => ({ ...a, effect: "allow" })),
    })),
    creator_type: robot.creator_type,
    creator_ref: robot.creator_ref,
    creation_time: robot.created_at,
    update_time: robot.updated_at,
  };
}

function bad(message: string): never {
  throw new HarborError("BAD_REQUEST", message);
}

function parseDuration(value: unknown): number {
  if (value === -1) return -1;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_DURATION_DAYS) {
    bad(`duration must be -1 (never expires) or 1 to ${MAX_DURATION_DAYS} days`);
  }
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.includes("\0") || value.length > 1024) bad(`${field} must be a string of at most 1024 characters`);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") bad(`${field} must be a boolean`);
  return value;
}

function parseLevel(value: unknown): RobotLevel {
  if (value !== "system" && value !== "project") bad('level must be "system" or "project"');
  return value;
}

/** A requested grant: its namespace resolved to a project (or null for the system and "*"). */
interface RequestedPermission extends RobotPermission {
  namespace: string;
  project: ProjectRef | null;
}

export function registerRobotRoutes(app: FastifyInstance, deps: RobotRouteDeps): void {
  const { robots } = deps;

  /** Checks the shape, the catalogue and the level's rules of `permissions`; resolves project namespaces. */
  async function parsePermissions(principal: Principal, value: unknown, level: RobotLevel, action: ActionName): Promise<RequestedPermission[]> {
    if (!Array.isArray(value) || value.length === 0) bad("permissions must be a non-empty array");
    const parsed: RequestedPermission[] = [];
    for (const entry of value) {
      if (!isJsonObject(entry)) bad("each permission must be an object");
      const { kind, namespace, access } = entry;
      if (kind !== "system" && kind !== "project") bad('permission kind must be "system" or "project"');
      if (typeof namespace !== "string") bad("permission namespace must be a string");
      if (kind === "system" && namespace !== "/") bad('a system permission must have namespace "/"');
      if (!Array.isArray(access) || access.length === 0) bad(`permission ${namespace}: access must be a non-empty array`);
      const pairs = access.map((item) => {
        if (!isJsonObject(item) || typeof item.resource !== "string" || typeof item.action !== "string") {
          bad("each access entry needs a resource and an action");
        }
        if (item.effect !== undefined && item.effect !== "allow") bad('only effect "allow" is supported');
        if (!isGrantable(kind, item.resource, item.action)) bad(`bad request permission: ${item.resource}:${item.action}`);
        return { resource: item.resource, action: item.action };
      });
      let project: ProjectRef | null = null;
      if (kind === "project" && namespace !== "*") {
        project = isValidProjectName(namespace) ? await deps.projects.findRefByName(namespace) : null;
        // Only system admins learn that a project does not exist; everyone else gets the answer an existing
        // project they may not manage would give.
        if (!project) isSysadmin(principal) ? bad(`project ${namespace} not found`) : deny(principal, action, projectTarget("robot", namespace));
      }
      if (parsed.some((p) => p.kind === kind && p.namespace === namespace)) bad(`namespace ${namespace} is listed twice`);
      parsed.push({ kind, namespace, project, projectId: project?.id ?? null, access: pairs });
    }
    if (level === "project" && (parsed.length !== 1 || parsed[0].kind !== "project" || parsed[0].project === null)) {
      bad("a project robot needs exactly one permission, of kind project, naming its project");
    }
    return parsed;
  }

  /**
   * Nobody hands out more than they hold: each requested grant must be one the caller could use itself in that
   * namespace (Harbor checks this for robots creating robots; users who may create robots hold the catalogue).
   */
  async function requireHeld(principal: Principal, permissions: RequestedPermission[]): Promise<void> {
    for (const permission of permissions) {
      for (const { resource, action } of permission.access) {
        const verb = action as ActionName;
        let held: boolean;
        if (permission.kind === "system") held = canSystem(principal, resource as SystemResource, verb);
        else if (permission.project) held = await deps.authorizer.allows(principal, permission.project, resource as Resource, verb);
        else held = isSysadmin(principal) || (principal.kind === "robot" && principal.scopes.allProjects.has(`${resource}:${action}`));
        if (!held) throw new HarborError("FORBIDDEN", `permission scope is invalid: you do not hold ${resource}:${action} in ${permission.namespace}`);
      }
    }
  }

  /** The robot-management check: project robots by the caller's rights in their project, system ones by system rights. */
  async function authorizeRobot(principal: Principal, level: RobotLevel, project: ProjectRef | null, label: string, action: ActionName) {
    if (level === "system") {
      requireSystem(principal, "robot", action);
      return;
    }
    await authorizeIn(deps, principal, project, label, "robot", action);
  }

  /** Whether the caller may do `action` on this robot: system robots by system rights, others by project rights. */
  async function mayManage(principal: Principal, robot: RobotRow, action: ActionName): Promise<boolean> {
    if (robot.level === "system") return canSystem(principal, "robot", action);
    const project = robot.project_id === null ? null : await deps.projects.findById(robot.project_id);
    return deps.authorizer.allows(principal, project, "robot", action);
  }

  /**
   * The robot `id` when the caller may do `action` on it. Otherwise 404 to system admins, and to everyone else the
   * same refusal whether or not the id exists, so robot ids cannot be probed.
   */
  async function robotFor(request: FastifyRequest<{ Params: { id: string } }>, action: ActionName): Promise<RobotRow> {
    if (!/^\d{1,9}$/.test(request.params.id)) bad("robot id must be a positive integer");
    const robot = await robots.findById(Number(request.params.id));
    const principal = request.principal;
    if (robot && (await mayManage(principal, robot, action))) return robot;
    if (isSysadmin(principal)) throw new HarborError("NOT_FOUND", `robot ${request.params.id} not found`);
    deny(principal, action, `robot ${request.params.id}`);
  }

  /** Writes a robot change and its audit record in one transaction, then drops cached logins of the robot. */
  async function audited(
    request: FastifyRequest,
    robot: RobotRow,
    operation: AuditEntry["operation"],
    description: string,
    change: (tx: Queryable) => Promise<boolean>,
  ): Promise<void> {
    const entry: AuditEntry = { projectId: robot.project_id, operation, resourceType: "robot", resource: fullName(robot), description };
    const changed = await deps.audit.change(actorOf(request), entry, change);
    deps.authenticator.forget(fullName(robot));
    if (!changed) throw new HarborError("NOT_FOUND", "robot not found");
  }

  app.post("/api/v2.0/robots", async (request, reply) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "create", "robot accounts");
    const body = jsonObjectBody(request);
    const level = parseLevel(body.level);
    if (typeof body.name !== "string" || !ROBOT_NAME.test(body.name) || body.name.length > 255) {
      bad("name must be lowercase letters and digits with single . _ - separators (no + or $)");
    }
    const description = optionalString(body.description, "description") ?? "";
    const disabled = optionalBoolean(body.disable, "disable") ?? false;
    const duration = body.duration === undefined || body.duration === null ? await deps.settings.get("robot_token_duration") : parseDuration(body.duration);
    const permissions = await parsePermissions(principal, body.permissions, level, "create");
    const project = level === "project" ? permissions[0].project : null;
    await authorizeRobot(principal, level, project, permissions[0].namespace, "create");
    await requireHeld(principal, permissions);

    const name = project ? `${project.name}+${body.name}` : body.name;
    // Harbor ignores a secret sent on create: one is always generated (set a chosen one with PATCH).
    const secret = generateSecret();
    const secretHash = await hashPassword(secret);
    const entry: AuditEntry = { projectId: project?.id ?? null, operation: "create", resourceType: "robot", resource: `${ROBOT_PREFIX}${name}` };
    const created = await deps.audit.change(actorOf(request), entry, (tx) =>
      robots.create(
        {
          name, description, level, disabled, duration, secretHash, permissions,
          projectId: project?.id ?? null,
          creatorType: principal.kind === "robot" ? "robot" : "local",
          creatorRef: principal.id,
        },
        tx,
      ),
    );
    if (!created) throw new HarborError("CONFLICT", `a robot named ${ROBOT_PREFIX}${name} already exists`);
    return reply
      .code(201)
      .header("Location", `/api/v2.0/robots/${created.id}`)
      .send({ id: created.id, name: `${ROBOT_PREFIX}${name}`, secret, creation_time: created.createdAt, expires_at: created.expiresAt });
  });

  // Harbor: ?q=Level=system (the default) or ?q=Level=project,ProjectID=<id>; name=~ filters too.
  app.get("/api/v2.0/robots", async (request, reply) => {
    const principal = request.principal;
    const terms = parseQuery(queryString(request.query, "q"), ["Level", "level", "ProjectID", "project_id", "name"]);
    const value = (...keys: string[]) => {
      const term = terms.find((t) => keys.includes(t.key));
      if (term && term.kind !== "exact" && !(term.key === "name" && term.kind === "fuzzy")) bad(`q: ${term.key} takes one value`);
      return term && (term.kind === "exact" || term.kind === "fuzzy") ? term.value : undefined;
    };
    const level = parseLevel(value("Level", "level") ?? "system");
    const projectIdText = value("ProjectID", "project_id");
    let projectId: number | null = null;
    if (level === "project") {
      if (projectIdText === undefined || !/^\d{1,9}$/.test(projectIdText)) bad("listing project robots needs q=Level=project,ProjectID=<id>");
      projectId = Number(projectIdText);
      await authorizeRobot(principal, level, await deps.projects.findById(projectId), projectIdText, "list");
    } else {
      await authorizeRobot(principal, level, null, "", "list");
    }
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await robots.list({ level, projectId, name: value("name"), limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.get<{ Params: { id: string } }>("/api/v2.0/robots/:id", async (request) => toApi(await robotFor(request, "read")));

  app.put<{ Params: { id: string } }>("/api/v2.0/robots/:id", async (request, reply) => {
    const robot = await robotFor(request, "update");
    const body = jsonObjectBody(request);
    if (body.name !== fullName(robot)) bad(`name must be the robot's full name, ${fullName(robot)}`);
    if (body.level !== robot.level) bad("a robot's level cannot change");
    const change: RobotChange = {
      description: optionalString(body.description, "description"),
      disabled: optionalBoolean(body.disable, "disable"),
      duration: body.duration === undefined || body.duration === null ? undefined : parseDuration(body.duration),
    };
    if (Array.isArray(body.permissions) && body.permissions.length > 0) {
      const permissions = await parsePermissions(request.principal, body.permissions, robot.level, "update");
      if (robot.level === "project" && permissions[0].projectId !== robot.project_id) bad("a project robot cannot move to another project");
      await requireHeld(request.principal, permissions);
      change.permissions = permissions;
    }
    await audited(request, robot, "update", `update robot ${fullName(robot)}`, (tx) =>
      robots.update(robot, change, tx),
    );
    return reply.code(200).send();
  });

  // Empty or absent secret: a new one is generated and returned once. A chosen secret must meet the password rule.
  app.patch<{ Params: { id: string } }>("/api/v2.0/robots/:id", async (request) => {
    const robot = await robotFor(request, "update");
    const principal = request.principal;
    // A robot that could reset another robot's secret could become it: robots refresh only their own.
    if (principal.kind === "robot" && principal.id !== robot.id) throw new HarborError("FORBIDDEN", "a robot may refresh only its own secret");
    const requested = jsonObjectBody(request).secret;
    if (requested !== undefined && requested !== null && typeof requested !== "string") bad("secret must be a string");
    const generated = requested ? null : generateSecret();
    if (requested) {
      const problem = passwordProblem(requested);
      if (problem) bad(problem.replace(/^password/, "secret"));
    }
    const secretHash = await hashPassword(generated ?? (requested as string));
    await audited(request, robot, "update", `refresh secret of robot ${fullName(robot)}`, (tx) =>
      robots.setSecretHash(robot.id, secretHash, tx),
    );
    return { secret: generated ?? "" };
  });

  app.delete<{ Params: { id: string } }>("/api/v2.0/robots/:id", async (request, reply) => {
    const robot = await robotFor(request, "delete");
    await audited(request, robot, "delete", `delete robot ${fullName(robot)}`, (tx) =>
      robots.delete(robot.id, tx),
    );
    return reply.code(200).send();
  });

  // The catalogue robots' permissions are chosen from; the system part only for those who may manage system robots.
  app.get("/api/v2.0/permissions", async (request) => {
    const principal = request.principal;
    if (principal.kind === "anonymous") deny(principal, "read", "the permission catalogue");
    const catalogue = grantableCatalogue();
    return { system: canSystem(principal, "robot", "read") ? catalogue.system : [], project: catalogue.project };
  });
}

