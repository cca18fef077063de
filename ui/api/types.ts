/** The Harbor API shapes the UI reads (only the fields it uses). */
export interface CurrentUser {
  user_id: number;
  username: string;
  sysadmin_flag: boolean;
  email?: string;
  realname?: string;
  /** Present for users linked to the OIDC provider (never the CLI secret itself). */
  oidc_user_meta?: { subiss: string; cli_secret_created: string | null };
}

/** Harbor's auth modes as /systeminfo names them. */
export type AuthMode = "db_auth" | "ldap_auth" | "oidc_auth";

/** A group the signed-in user belongs to, as the identity source said at sign-in (Berth's /users/current/groups). */
export interface CurrentUserGroup {
  group_type: GroupType;
  group_name: string;
  ldap_group_dn: string;
}

/** Harbor's user group types: 1 LDAP (by DN), 2 HTTP, 3 OIDC (by name). */
export type GroupType = 1 | 2 | 3;

export interface SystemInfo {
  auth_mode: AuthMode;
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


/* Repository and artifact pages (issue 17). */

/** GET /api/v2.0/systeminfo for a signed-in caller: the host clients pull from. */
export interface RegistryInfo {
  registry_url?: string;
}

export interface RepositoryDetail extends Repository {
  description: string;
  creation_time: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

export interface Tag {
  name: string;
  push_time: string;
  immutable: boolean;
}

/** One child of an index (Harbor's `references`). */
export interface ArtifactReference {
  parent_digest: string;
  child_digest: string;
  platform: Platform | null;
}

/** A referrer of an artifact: a signature, an SBOM, an attestation (Harbor's `accessories`). */
export interface Accessory {
  digest: string;
  artifact_type: string;
  size: number;
  creation_time: string;
}

export type Severity = "Critical" | "High" | "Medium" | "Low" | "Negligible" | "Unknown" | "None";

/** Harbor's NativeReportSummary (one entry of `scan_overview`). */
export interface ScanSummary {
  scan_status: "Pending" | "Running" | "Success" | "Error" | "Stopped";
  severity: Severity;
  summary: { total: number; fixable: number; summary: Partial<Record<Severity, number>> };
  end_time: string;
  scanner: { name: string; version: string };
}

export interface SbomOverview {
  scan_status: string;
  sbom_digest: string;
  end_time: string;
}

export interface Artifact {
  type: "IMAGE_INDEX" | "IMAGE" | "ARTIFACT";
  digest: string;
  media_type: string;
  artifact_type: string;
  size: number;
  push_time: string;
  pull_time: string | null;
  tags: Tag[] | null;
  references: ArtifactReference[] | null;
  accessories: Accessory[] | null;
  /** With `with_scan_overview=true`, by report media type; absent when never scanned. */
  scan_overview?: Record<string, ScanSummary>;
  sbom_overview?: SbomOverview;
  /** Only on GET of one artifact: from its image config. */
  extra_attrs?: { os?: string; architecture?: string; variant?: string; created?: string | null; author?: string; config?: unknown };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  artifactType?: string;
}

/** An image manifest or an index, as /v2 serves it (GET …/additions/manifest). */
export interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
}

export interface BuildStep {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface Vulnerability {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  preferred_cvss?: { score_v3: number; vector_v3: string };
}

export interface VulnerabilityReport {
  generated_at: string;
  severity: Severity;
  scanner: { name: string; version: string };
  vulnerabilities: Vulnerability[];
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
  /** Group members only (Berth addition): the group's type and, for LDAP groups, its DN. */
  group_type?: GroupType;
  ldap_group_dn?: string;
}

/** /usergroups/search: groups by name, for choosing a group member. */
export interface UserGroupSearchResult {
  id: number;
  group_name: string;
  group_type: GroupType;
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
