import type { AuditEntry, AuditOperation, AuditResourceType } from "./audit-log";

const OPERATIONS: Record<string, AuditOperation> = { POST: "create", PUT: "update", PATCH: "update", DELETE: "delete" };
// Paths whose every write changes the project they sit under (adding a metadata key updates the project).
const PROJECT_UPDATES = /^\/projects\/[^/]+\/metadatas(\/|$)/;

// The resource a management API path names, from its deepest known collection: /projects/p/members/3 is a member.
const COLLECTIONS: [RegExp, AuditResourceType][] = [
  [/^\/projects\/[^/]+\/members(\/|$)/, "member"],
  [/^\/projects(\/|$)/, "project"],
  [/^\/users(\/|$)/, "user"],
  [/^\/robots(\/|$)/, "robot"],
];

const API_PREFIX = "/api/v2.0";
const RESOURCE_MAX = 512;

/**
 * The audit record (result false) of a management API write that was refused or failed, or null when the request
 * was not such a write. The record names the path asked for, not the project: a refused caller's guess at a
 * project name must not show up in that project's log, so these records are only visible to system admins.
 */
export function refusedWriteEntry(method: string, url: string, status: number): AuditEntry | null {
  const path = url.slice(API_PREFIX.length).split("?", 1)[0];
  const operation = PROJECT_UPDATES.test(path) && OPERATIONS[method] ? "update" : OPERATIONS[method];
  if (!operation || status < 400 || !url.startsWith(`${API_PREFIX}/`)) return null;
  const resourceType = COLLECTIONS.find(([pattern]) => pattern.test(path))?.[1];
  if (!resourceType) return null;
  const resource = path.replace(/\0/g, "").slice(0, RESOURCE_MAX);
  return {
    projectId: null,
    operation,
    resourceType,
    resource,
    description: `${operation} ${resourceType} refused with ${status}: ${method} ${resource}`,
    result: false,
  };
}
