import { pairsOf, roleGrants, ROLES, type ActionName } from "./rbac";

export type PermissionKind = "system" | "project";

// What a system-level robot may be granted (Harbor's system policies plus the robot-only resources, §3.3/§4.2).
const SYSTEM_GRANTABLE = pairsOf({
  "audit-log": "L",
  catalog: "R",
  configuration: "RU",
  "garbage-collection": "CRUDL",
  "jobservice-monitor": "LS",
  label: "CRUDL",
  "ldap-user": "CL",
  "preheat-instance": "CRUDL",
  project: "CRUDL",
  "purge-audit": "CRUDL",
  quota: "RUL",
  registry: "CRUDL",
  replication: "CRUDL",
  "replication-adapter": "L",
  "replication-policy": "CRUDL",
  robot: "CRDL",
  "scan-all": "CRUDL",
  scanner: "CRUDL",
  "security-hub": "RL",
  "system-volumes": "R",
  user: "CRUDL",
  "user-group": "CRUDL",
});

// A project robot may hold what a project admin holds, except running retention by hand (Harbor: `operate` is not
// grantable, a robot triggers a run with `update`) and editing other robots.
const PROJECT_GRANTABLE = roleGrants(ROLES.projectAdmin).filter(
  ({ resource, action }) => !(resource === "tag-retention" && action === "operate") && !(resource === "robot" && action === "update"),
);

const GRANTABLE: Record<PermissionKind, ReadonlySet<string>> = {
  system: new Set(SYSTEM_GRANTABLE.map(({ resource, action }) => `${resource}:${action}`)),
  project: new Set(PROJECT_GRANTABLE.map(({ resource, action }) => `${resource}:${action}`)),
};

export function isGrantable(kind: PermissionKind, resource: string, action: string): boolean {
  return GRANTABLE[kind].has(`${resource}:${action}`);
}

/** GET /permissions: the catalogue a robot's permissions are chosen from. */
export function grantableCatalogue(): Record<PermissionKind, { resource: string; action: ActionName }[]> {
  return { system: SYSTEM_GRANTABLE, project: PROJECT_GRANTABLE };
}
