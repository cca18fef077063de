import type { BlobStore } from "../storage/blob-store";
import type { AuditLog } from "../audit/audit-log";
import type { Authorizer } from "../auth/authorizer";
import type { PullStats } from "../artifacts/pull-stats";
import type { EventPublisher } from "../events/events";
import type { ProjectRef, ProjectStore } from "../projects/projects";
import type { ImmutableRules } from "../policy/immutable-rules";
import type { ProjectQuotas } from "../quotas/quotas";
import type { DistributionMetadata } from "./metadata";
import type { UploadService } from "./upload-service";
import type { ProxyCache } from "../proxy/proxy-cache";

/** What the /v2 handlers need; built once in app.ts. */
export interface DistributionContext {
  store: BlobStore;
  audit: AuditLog;
  metadata: DistributionMetadata;
  projects: ProjectStore;
  authorizer: Authorizer;
  uploads: UploadService;
  /** Immutable tag rules, asked before a tag moves or goes. */
  immutableRules: ImmutableRules;
  /** Storage limits, checked before a blob becomes part of a project. */
  quotas: ProjectQuotas;
  /** Pull counts and times, written in batches. */
  pullStats: PullStats;
  /** Told about pushes, pulls and deletes after they commit (webhooks). */
  events: EventPublisher;
  /** Pull-through caching for proxy projects. */
  proxy: ProxyCache;
  publicUrl?: string;
  /** BERTH_MAX_MANIFEST_REFERENCES: distinct blobs and manifests one pushed manifest may refer to. */
  maxManifestReferences: number;
  /** BERTH_MAX_UPLOADS_PER_USER: open upload sessions one caller may hold. */
  maxUploadsPerUser: number;
  onBytesSent(bytes: number): void;
  /**
   * Whether a manifest GET may go ahead under the project's pull policy (prevent_vul); absent: always. The
   * message says why not.
   */
  pullPolicy?: (project: ProjectRef, repository: string, digest: string) => Promise<{ allowed: true } | { allowed: false; message: string }>;
}
