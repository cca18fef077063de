/** A robot's grants, as `resource:action` strings per namespace (HARBOR-MODEL §4.2). */
export interface RobotScopes {
  system: ReadonlySet<string>;
  /** Grants in one project, by project id. */
  projects: ReadonlyMap<number, ReadonlySet<string>>;
  /** Grants in every project (namespace "*"). */
  allProjects: ReadonlySet<string>;
}

export const NO_SCOPES: RobotScopes = { system: new Set(), projects: new Map(), allProjects: new Set() };

/** Who is making a request. */
export type Principal =
  | { kind: "anonymous" }
  | {
      kind: "user";
      id: number;
      username: string;
      sysadmin: boolean;
      /** Ldap mode: DNs of the user's directory groups, read at sign-in (unset for local users). */
      groupDns?: readonly string[];
    }
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
