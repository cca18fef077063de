import type { Permission } from "../api/types";

/**
 * Whether `permissions` (GET /users/current/permissions?relative=true; "." is the project itself) hold this pair.
 * The UI offers an action only when it does; the server refuses it anyway otherwise.
 */
export function can(permissions: Permission[], resource: string, action: string): boolean {
  return permissions.some((p) => p.resource === resource && p.action === action);
}
