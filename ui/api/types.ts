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
