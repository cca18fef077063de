import type { ProjectCreationRestriction } from "../config";
import { isSysadmin, type Principal } from "./principal";

/** Harbor's project roles (role_id). */
export const ROLES = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
export type RoleId = (typeof ROLES)[keyof typeof ROLES];
export const ROLE_NAMES: Record<RoleId, string> = { 1: "projectAdmin", 2: "developer", 3: "guest", 4: "maintainer", 5: "limitedGuest" };

export function isRoleId(value: unknown): value is RoleId {
  return typeof value === "number" && Object.prototype.hasOwnProperty.call(ROLE_NAMES, value);
}

export const ACTIONS = {
  C: "create",
  R: "read",
  U: "update",
  D: "delete",
  L: "list",
  O: "operate",
  S: "stop",
  P: "pull",
  W: "push",
} as const;
export type ActionName = (typeof ACTIONS)[keyof typeof ACTIONS];
type Letters = string;

/** Project-scope resources; "project" is Harbor's empty resource (the project itself). */
export type Resource =
  | "project" | "member" | "metadata" | "log" | "label" | "quota" | "repository" | "artifact" | "tag"
  | "artifact-label" | "artifact-addition" | "accessory" | "tag-retention" | "immutable-tag" | "configuration"
  | "robot" | "notification-policy" | "scan" | "sbom" | "scanner" | "preheat-policy" | "export-cve";

// Harbor's role → permission matrix (HARBOR-MODEL §3.4, from rbac_role.go), one letter per action (see ACTIONS;
// P = pull, W = push). Columns: projectAdmin, maintainer, developer, guest, limitedGuest.
// One deliberate difference: Harbor lets developers write and run tag retention, and a retention run deletes
// artifacts, which developers may not do otherwise; here they only read it.
const MATRIX: Record<Resource, [Letters, Letters, Letters, Letters, Letters]> = {
  project:               ["RUD",      "R",        "R",       "R",   "R"],
  member:                ["CRUDL",    "RL",       "RL",      "RL",  ""],
  metadata:              ["CRUD",     "R",        "",        "",    ""],
  log:                   ["L",        "",         "",        "",    ""],
  label:                 ["CRUDL",    "CRUDL",    "RL",      "RL",  ""],
  quota:                 ["R",        "R",        "R",       "R",   "R"],
  repository:            ["CRUDLPW",  "CRUDLPW",  "CRULPW",  "RLP", "RLP"],
  artifact:              ["CRDL",     "CRDL",     "CRL",     "RL",  "RL"],
  tag:                   ["CDL",      "CDL",      "CL",      "L",   "L"],
  "artifact-label":      ["CD",       "CD",       "CD",      "",    ""],
  "artifact-addition":   ["R",        "R",        "R",       "R",   "R"],
  accessory:             ["L",        "L",        "L",       "L",   "L"],
  "tag-retention":       ["CRUDLO",   "CRUDLO",   "RL",      "",    ""],
  "immutable-tag":       ["CUDL",     "CUDL",     "",        "",    ""],
  configuration:         ["RU",       "R",        "R",       "R",   "R"],
  robot:                 ["CRUDL",    "RL",       "RL",      "RL",  ""],
  "notification-policy": ["CRUDL",    "RL",       "",        "",    ""],
  scan:                  ["CRS",      "CRS",      "R",       "R",   "R"],
  sbom:                  ["CRS",      "CRS",      "R",       "R",   "R"],
  scanner:               ["RC",       "R",        "R",       "R",   "R"],
  "preheat-policy":      ["CRUDL",    "",         "",        "",    ""],
  "export-cve":          ["CRL",      "CRL",      "CRL",     "",    ""],
};
const COLUMN: Record<RoleId, number> = { 1: 0, 4: 1, 2: 2, 3: 3, 5: 4 };

/** Distinct roles, highest first (project admin, maintainer, developer, guest, limited guest): Harbor's role order. */
export function highestFirst(roles: Iterable<RoleId>): RoleId[] {
  return [...new Set(roles)].sort((a, b) => COLUMN[a] - COLUMN[b]);
}

// What a public project grants everyone, anonymous callers included.
const PUBLIC_GRANTS: Partial<Record<Resource, Letters>> = {
  project: "R",
  label: "RL",
  repository: "LP",
  scan: "R",
  scanner: "R",
  tag: "L",
  artifact: "RL",
  "artifact-addition": "R",
  accessory: "L",
};

function lettersGrant(letters: Letters | undefined, action: ActionName): boolean {
  if (!letters) return false;
  for (const letter of letters) if (ACTIONS[letter as keyof typeof ACTIONS] === action) return true;
  return false;
}

/**
 * What a caller brings to a project: its roles there (empty when not a member), and for robots the
 * `resource:action` pairs they were granted there (robots have no roles: exactly their list counts).
 */
export interface ProjectGrant {
  public: boolean;
  roles: readonly RoleId[];
  access?: ReadonlySet<string>;
}

/**
 * The one permission decision for project-scoped resources. System admins may do everything; otherwise the union
 * of the caller's roles in the project, plus what a public project grants to everyone.
 */
export function can(principal: Principal, project: ProjectGrant | null, resource: Resource, action: ActionName): boolean {
  if (isSysadmin(principal)) return true;
  if (project === null) return false;
  if (project.public && lettersGrant(PUBLIC_GRANTS[resource], action)) return true;
  if (project.access?.has(`${resource}:${action}`)) return true;
  return project.roles.some((role) => lettersGrant(MATRIX[resource][COLUMN[role]], action));
}

/** Every (resource, action) a role holds in a project. */
export function roleGrants(role: RoleId): { resource: Resource; action: ActionName }[] {
  return (Object.keys(MATRIX) as Resource[]).flatMap((resource) =>
    [...MATRIX[resource][COLUMN[role]]].map((letter) => ({ resource, action: ACTIONS[letter as keyof typeof ACTIONS] })),
  );
}

/** Expands a table of letters (see ACTIONS) into (resource, action) pairs. */
export function pairsOf<R extends string>(table: Partial<Record<R, Letters>>): { resource: R; action: ActionName }[] {
  return (Object.keys(table) as R[]).flatMap((resource) =>
    [...(table[resource] as Letters)].map((letter) => ({ resource, action: ACTIONS[letter as keyof typeof ACTIONS] })),
  );
}

// The project namespace's policies: every (resource, action) some role holds (Harbor's GetAllPolicies). Robots are
// granted from a subset of these and public projects grant a subset, so no one holds a pair outside it.
const PROJECT_POLICIES = (Object.keys(MATRIX) as Resource[]).flatMap((resource) =>
  Object.values(ACTIONS)
    .filter((action) => MATRIX[resource].some((letters) => lettersGrant(letters, action)))
    .map((action) => ({ resource, action })),
);

/**
 * Every (resource, action) the caller holds in the project: GET /users/current/permissions. As in Harbor, the
 * candidates are the namespace's policies, so a system admin gets all of them and no pair no route asks about.
 */
export function permissionsIn(principal: Principal, project: ProjectGrant): { resource: Resource; action: ActionName }[] {
  return PROJECT_POLICIES.filter(({ resource, action }) => can(principal, project, resource, action));
}

/**
 * Whether the caller may choose a new project's storage limit. Harbor lets its "sysadmins" do so, meaning holders of
 * system-scope project:create; users may create projects under project_creation_restriction=everyone without
 * holding it, so for users it takes a system admin, while robots count with the system grant.
 */
export function canChooseProjectQuota(principal: Principal): boolean {
  return principal.kind === "user" ? isSysadmin(principal) : principal.kind === "robot" && canSystem(principal, "project", "create");
}

/** System-scope resources (Harbor's /system/<resource>). */
export type SystemResource =
  | "audit-log" | "catalog" | "configuration" | "garbage-collection" | "jobservice-monitor" | "label" | "ldap-user"
  | "preheat-instance" | "project" | "purge-audit" | "quota" | "registry" | "replication" | "replication-adapter"
  | "replication-policy" | "robot" | "scan-all" | "scanner" | "security-hub" | "system-volumes" | "user" | "user-group";

/** System-scope decisions. Sysadmins may do everything, system robots what they were granted, other users nothing. */
export function canSystem(principal: Principal, resource: SystemResource, action: ActionName): boolean {
  if (isSysadmin(principal)) return true;
  if (principal.kind === "robot") return principal.scopes.system.has(`${resource}:${action}`);
  return false;
}

/**
 * Who may create a project: those holding system-scope project:create (system admins, system robots granted it),
 * and under project_creation_restriction=everyone (Harbor's default) any logged-in user.
 */
export function canCreateProject(principal: Principal, restriction: ProjectCreationRestriction): boolean {
  if (canSystem(principal, "project", "create")) return true;
  return restriction === "everyone" && principal.kind === "user";
}
