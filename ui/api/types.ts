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

/** One object the GitOps controller manages (GET /projects/{p}/gitops, /gitops/managed). */
export interface ManagedObject {
  kind: string;
  key: string;
  /** The policy file declaring it: projects.yaml or members.yaml. */
  file: string;
  adopted: boolean;
  since: string;
}

/** GET /api/v2.0/projects/{p}/gitops: what the controller manages in a project, as far as the caller may see. */
export interface ProjectGitOps {
  managed: boolean;
  suspended: boolean;
  /** "correct" when drift runs put hand-made changes back; null before any run. */
  drift_mode: string | null;
  objects: ManagedObject[];
}
