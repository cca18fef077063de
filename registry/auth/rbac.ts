import type { Principal } from "./principal";

/** What a request wants to do to a project's repositories or to the project itself. */
export type Action = "pull" | "push" | "delete" | "read-project" | "update-project" | "delete-project" | "create-project";

export interface ProjectAccessFacts {
  public: boolean;
}

/**
 * The one place that decides permissions. Today: system admins may do everything; anyone, even anonymous,
 * may pull from and read public projects; authenticated users may create projects. Project members and
 * their roles plug in here (Harbor's role × resource × action matrix).
 */
export function can(principal: Principal, action: Action, project: ProjectAccessFacts | null): boolean {
  if (principal.kind === "user" && principal.sysadmin) return true;
  if (action === "create-project") return principal.kind === "user";
  if (project === null) return false;
  if (action === "pull" || action === "read-project") return project.public;
  return false;
}
