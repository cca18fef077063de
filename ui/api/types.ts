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

// Project tabs: members, robot accounts, tag immutability, webhooks, logs, configuration.

/** GET /projects/{p}/members: a user's membership (groups are not supported). */
export interface Member {
  id: number;
  entity_id: number;
  entity_type: "u" | "g";
  entity_name: string;
  role_id: number;
  role_name: string;
}

export interface UserSearchResult {
  user_id: number;
  username: string;
}

export interface RobotPermission {
  kind: "project" | "system";
  namespace: string;
  access: { resource: string; action: string; effect?: string }[];
}

/** GET /robots: the secret is never listed (always ""). */
export interface Robot {
  id: number;
  name: string;
  description: string;
  level: "project" | "system";
  duration: number;
  disable: boolean;
  /** Unix seconds; -1 never expires. */
  expires_at: number;
  permissions: RobotPermission[];
  creation_time: string;
}

/** GET /permissions: what robots may be granted. */
export interface PermissionCatalogue {
  system: Permission[];
  project: Permission[];
}

export interface Selector {
  kind: "doublestar";
  decoration: string;
  pattern: string;
}

export interface ImmutableRule {
  id: number;
  priority: number;
  disabled: boolean;
  action: "immutable";
  template: "immutable_template";
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

export interface WebhookTarget {
  type: "http";
  address: string;
  skip_cert_verify: boolean;
  payload_format: string;
  /** Never returned (write-only); has_auth_header says whether one is set. */
  auth_header: string;
  has_auth_header?: boolean;
}

export interface WebhookPolicy {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  event_types: string[];
  targets: WebhookTarget[];
  creator: string;
  creation_time: string;
  update_time: string;
}

export interface WebhookEvents {
  event_type: string[];
  notify_type: string[];
  payload_formats: { notify_type: string; formats: string[] }[];
}

/** One delivery of an event to a target (Harbor's execution). */
export interface WebhookExecution {
  id: number;
  status: string;
  status_message: string;
  extra_attrs: { event_type: string; address: string };
  metrics: { attempts: number };
  start_time: string;
  end_time: string | null;
}

/** One attempt of a delivery (Harbor's task). */
export interface WebhookTask {
  id: number;
  status: string;
  status_message: string;
  run_count: number;
  extra_attrs: { status_code: number | null };
  start_time: string;
  end_time: string | null;
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

/** GET /projects/{p}: the project's own CVE allowlist (used when metadata.reuse_sys_cve_allowlist is "false"). */
export interface ProjectWithAllowlist extends Project {
  cve_allowlist?: { items: { cve_id: string }[]; expires_at: number | null };
}
