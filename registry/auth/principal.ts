/** A robot's grants, as `resource:action` strings per namespace (HARBOR-MODEL §4.2). */
export interface RobotScopes {
  system: ReadonlySet<string>;
  /** Grants in one project, by project id. */
  projects: ReadonlyMap<number, ReadonlySet<string>>;
  /** Grants in every project (namespace "*"). */
  allProjects: ReadonlySet<string>;
}

export const NO_SCOPES: RobotScopes = { system: new Set(), projects: new Map(), allProjects: new Set() };

/** Harbor's user group types (group_type). */
export const GROUP_TYPES = { ldap: 1, http: 2, oidc: 3 } as const;
export type GroupType = (typeof GROUP_TYPES)[keyof typeof GROUP_TYPES];

/**
 * A group the identity source says the user belongs to, as of sign-in: an LDAP group by its DN, an OIDC group by
 * the name in the groups claim. Project memberships of the matching user_groups row count for the user.
 */
export interface PrincipalGroup {
  type: GroupType;
  /** The LDAP group's DN (type 1), or the group's name (types 2 and 3). */
  name: string;
}

/** Who is making a request. */
export type Principal =
  | { kind: "anonymous" }
  /** `groups`: filled by the LDAP and OIDC sign-ins; absent (no groups) for database users. */
  | { kind: "user"; id: number; username: string; sysadmin: boolean; groups?: readonly PrincipalGroup[] }
  | { kind: "robot"; id: number; name: string; scopes: RobotScopes };

export const ANONYMOUS: Principal = { kind: "anonymous" };

export function principalName(principal: Principal): string {
  if (principal.kind === "user") return principal.username;
  return principal.kind === "robot" ? principal.name : "anonymous";
}

export function isSysadmin(principal: Principal): boolean {
  return principal.kind === "user" && principal.sysadmin;
}

/** The project grants of a robot in project `projectId`: its own entry plus those for every project. */
export function robotGrantsIn(scopes: RobotScopes, projectId: number): ReadonlySet<string> {
  const own = scopes.projects.get(projectId);
  if (!own || own.size === 0) return scopes.allProjects;
  if (scopes.allProjects.size === 0) return own;
  return new Set([...own, ...scopes.allProjects]);
}
