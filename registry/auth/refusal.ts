import { principalName, type Principal } from "./principal";
import type { Resource, SystemResource } from "./rbac";

/**
 * The words of refusals: who asked, for what, on what. Both surfaces build their messages here, from the name the
 * caller gave (never from what was found), so a refusal reads the same whether or not a project exists.
 */

/** The caller as refusals name it: `user alice`, `robot robot$dev-team+ci` or `anonymous`. */
export function describeCaller(principal: Principal): string {
  return principal.kind === "anonymous" ? "anonymous" : `${principal.kind} ${principalName(principal)}`;
}

// Project-scope resources as a sentence names them ("artifacts of project dev-team"); "project" is the project itself.
const PROJECT_RESOURCE_WORDS: Record<Exclude<Resource, "project">, string> = {
  member: "members",
  metadata: "metadata",
  log: "logs",
  label: "labels",
  quota: "the quota",
  repository: "repositories",
  artifact: "artifacts",
  tag: "tags",
  "artifact-label": "artifact labels",
  "artifact-addition": "artifact additions",
  accessory: "accessories",
  "tag-retention": "tag retention",
  "immutable-tag": "immutable tag rules",
  configuration: "the configuration",
  robot: "robot accounts",
  "notification-policy": "webhook policies",
  scan: "scans",
  sbom: "SBOMs",
  scanner: "the scanner",
  "preheat-policy": "preheat policies",
  "export-cve": "CVE exports",
};

const SYSTEM_RESOURCE_WORDS: Record<SystemResource, string> = {
  "audit-log": "audit logs",
  catalog: "the catalog",
  configuration: "the system configuration",
  "garbage-collection": "garbage collection",
  "jobservice-monitor": "the job service",
  label: "system labels",
  "ldap-user": "LDAP users",
  "preheat-instance": "preheat instances",
  project: "projects",
  "purge-audit": "audit log purges",
  quota: "quotas",
  registry: "registry endpoints",
  replication: "replication executions",
  "replication-adapter": "replication adapters",
  "replication-policy": "replication policies",
  robot: "system robot accounts",
  "scan-all": "scans of all artifacts",
  scanner: "scanners",
  "security-hub": "the security hub",
  "system-volumes": "system volumes",
  user: "users",
  "user-group": "user groups",
};

/** `artifacts of project dev-team`, or `project dev-team` for the project itself; `project` is the name as given. */
export function projectTarget(resource: Resource, project: string): string {
  return resource === "project" ? `project ${project}` : `${PROJECT_RESOURCE_WORDS[resource]} of project ${project}`;
}

export function systemTarget(resource: SystemResource): string {
  return SYSTEM_RESOURCE_WORDS[resource];
}

/** The management API's refusal: `user alice may not delete artifacts of project dev-team`. */
export function refusal(principal: Principal, action: string, target: string): string {
  return `${describeCaller(principal)} may not ${action} ${target}`;
}

/** The registry API's refusal in Harbor's words, with the caller: `unauthorized to access repository: …, action: …`. */
export function repositoryRefusal(principal: Principal, repository: string, action: string): string {
  return `unauthorized to access repository: ${repository}, action: ${action}, caller: ${describeCaller(principal)}`;
}
