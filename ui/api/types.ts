/** The Harbor API shapes the UI reads (only the fields it uses). */
export interface CurrentUser {
  user_id: number;
  username: string;
  sysadmin_flag: boolean;
}

export interface SystemInfo {
  auth_mode: string;
  /** Present only for signed-in callers. */
  project_creation_restriction?: "adminonly" | "everyone";
}

export interface Project {
  project_id: number;
  name: string;
  repo_count: number;
  creation_time: string;
  current_user_role_ids: number[];
  metadata: Record<string, string>;
}

export interface ProjectSummary {
  repo_count: number;
  /** Only for callers who may read the project's quota. */
  quota?: { hard: { storage: number }; used: { storage: number } };
}

export interface Repository {
  id: number;
  name: string;
  artifact_count: number;
  pull_count: number;
  update_time: string;
}

export interface Permission {
  resource: string;
  action: string;
}
