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

/* GitOps page (pages/GitOps.tsx): GET /api/v2.0/gitops/status, /gitops/managed; Project.managed_by_policy. */

/** The policy file a project is declared in when the GitOps controller manages it (Berth's extension), else null. */
export type ProjectManagedByPolicy = { managed_by_policy?: string | null };

/** One controller run as GET /gitops/status gives it. */
export interface GitOpsRun {
  id: number;
  commit: string;
  /** The commit's author, `Name <email>`; "" when unknown. */
  author: string;
  source: string;
  /** "commit" (a new commit), "schedule" (a drift run), "manual" (berth-controller apply). */
  trigger: string;
  /** "success", "no-op", "failed", or "drift" (found, not corrected: drift mode warn). */
  result: string;
  changes: number;
  applied: string[];
  drifted: string[];
  failures: string[];
  started_at: string;
  finished_at: string;
}

export interface GitOpsWatcher {
  name: string;
  revision: string | null;
  applied_revision: string | null;
  last_result: string | null;
  last_error: string | null;
  ready: boolean;
  updated_at: string;
}

/** GET /api/v2.0/gitops/status (system administrators). */
export interface GitOpsStatus {
  managed: boolean;
  source: { repo: string; branch: string; dir: string; description: string; claimed_by: string; claimed_at: string } | null;
  suspended: boolean;
  suspend_reason: string;
  drift_mode: string | null;
  last_applied: { commit: string; author: string; applied_at: string; last_run_id: number } | null;
  last_drift_run: GitOpsRun | null;
  runs: GitOpsRun[];
  watchers: GitOpsWatcher[];
  inventory: Record<string, number>;
}
