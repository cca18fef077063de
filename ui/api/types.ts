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

/* Retention and administration pages (ProjectRetention.tsx, pages/admin/). */
export interface RetentionSelector {
  kind: "doublestar";
  decoration: string;
  pattern: string;
  extras?: string;
}

export interface RetentionRule {
  id?: number;
  priority?: number;
  disabled: boolean;
  action: "retain";
  template: string;
  params: Record<string, number>;
  tag_selectors: RetentionSelector[];
  scope_selectors: { repository: RetentionSelector[] };
}

/** GET /retentions/{id}. */
export interface RetentionPolicy {
  id: number;
  algorithm: "or";
  rules: RetentionRule[];
  trigger: { kind: "Schedule"; settings: { cron: string }; references: Record<string, unknown> };
  scope: { level: "project"; ref: number };
}

/** GET /retentions/metadatas: Harbor's rule templates. */
export interface RetentionMetadata {
  templates: { rule_template: string; display_text: string; action: string; params: { type: string; unit: string; required: boolean }[] }[];
}

export interface RetentionExecution {
  id: number;
  policy_id: number;
  start_time: string;
  end_time: string | null;
  status: string;
  status_message: string;
  trigger: string;
  dry_run: boolean;
}

export interface RetentionTask {
  id: number;
  execution_id: number;
  repository: string;
  status: string;
  total: number;
  retained: number;
  start_time: string;
  end_time: string | null;
}

/** GET /retentions/{id}/executions/{eid}/tasks/{tid} with Accept: application/json. */
export interface RetentionDecisions {
  id: number;
  repository: string;
  status: string;
  decisions: { digest: string; tags: string[]; pushed_time: string; pulled_time: string | null; retention: string; reason: string }[];
}

export interface User {
  user_id: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin_flag: boolean;
  creation_time: string;
}

/** GET /registries: a replication endpoint with its last health check. */
export interface RegistryEndpoint {
  id: number;
  name: string;
  description: string;
  type: string;
  url: string;
  credential: { type: string; access_key: string; access_secret: string };
  insecure: boolean;
  status: string;
  status_message?: string;
  checked_time?: string | null;
  creation_time: string;
}

export interface ReplicationPolicy {
  id: number;
  name: string;
  description: string;
  creator: string;
  src_registry: { id: number; name: string };
  dest_registry: { id: number; name: string };
  dest_namespace: string;
  trigger: { type: string; trigger_settings: { cron: string } };
  filters: { type: string; value: string; decoration?: string }[];
  enabled: boolean;
  override: boolean;
  update_time: string;
}

export interface ReplicationExecution {
  id: number;
  policy_id: number;
  status: string;
  status_text: string;
  trigger: string;
  start_time: string;
  end_time: string | null;
  total: number;
  failed: number;
  succeed: number;
  in_progress: number;
  stopped: number;
}

export interface ReplicationTask {
  id: number;
  resource_type: string;
  src_resource: string;
  dst_resource: string;
  operation: string;
  status: string;
  start_time: string;
  end_time: string | null;
}

export interface GcRun {
  id: number;
  job_kind: string;
  job_parameters: string;
  job_status: string;
  status_message?: string;
  creation_time: string;
  update_time: string;
}

export interface GcSchedule {
  schedule: { type: string; cron: string };
  job_parameters: string;
  update_time: string | null;
}

export interface AuditLogEntry {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  operation_description: string;
  operation_result: boolean;
  op_time: string;
}

export interface Scanner {
  uuid: string;
  name: string;
  description: string;
  url: string;
  disabled: boolean;
  is_default: boolean;
  adapter: string;
  vendor: string;
  version: string;
}

/** GET /vulndb: the offline vulnerability database the embedded scanner matches against. */
export interface VulnDbStatus {
  generation: number;
  total_records: number;
  sources: { name: string; records: number; newest_modified: string | null; imported_at: string }[];
  last_sync: { at: string; error: string | null } | null;
  sync: { schedule: string; ecosystems: string[] } | null;
}

export interface CveAllowlist {
  items: { cve_id: string }[];
  expires_at: number | null;
  update_time?: string;
}

/** GET /gitops/status: only whether hand-made changes are put back is read here. */
export interface GitOpsStatus {
  managed: boolean;
  suspended: boolean;
  drift_mode: string | null;
}
