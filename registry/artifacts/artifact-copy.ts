import type { AuditActor, AuditEntry, AuditLog } from "../audit/audit-log";
import type { Queryable } from "../db/sql";
import { assertTagChangeAllowed } from "../distribution/immutability";
import type { DistributionMetadata, ManifestReference, NewManifest } from "../distribution/metadata";
import type { EventPublisher } from "../events/events";
import type { ImmutableRules } from "../policy/immutable-rules";
import { isPublic, type ProjectRow } from "../projects/projects";
import type { ProjectQuotas } from "../quotas/quotas";

export interface ArtifactCopyDeps {
  sql: Queryable;
  metadata: DistributionMetadata;
  quotas: ProjectQuotas;
  immutableRules: ImmutableRules;
  audit: AuditLog;
  events: EventPublisher;
}

export interface CopyRequest {
  source: { project: ProjectRow; repositoryId: number; name: string; digest: string };
  target: { project: ProjectRow; name: string };
  actor: AuditActor;
}

/** Why a copy was refused: the artifact is already in the target (Harbor's 409), or its content just went away. */
export class CopyConflictError extends Error {}

interface SourceManifest {
  digest: string;
  media_type: string;
  content: Buffer;
  artifact_type: string | null;
  subject_digest: string | null;
  annotations: Record<string, string> | null;
}

/**
 * Copies an artifact from one repository into another (Harbor's "copy", promotion between projects) without moving a
 * byte: the blob store is content-addressed, so its blobs are linked into the target repository as a cross-repository
 * mount links them, and its manifests (an index's children, the accessories of each) are stored there as they are.
 * The root keeps its tags, as Harbor does; quota and immutable tag rules of the target apply as they do to a push,
 * the copy is audited in the root's transaction and announced as a push.
 */
export class ArtifactCopier {
  constructor(private readonly deps: ArtifactCopyDeps) {}

  /** Performs the copy; returns what the target now holds. Throws ImmutableTagError, QuotaExceededError, CopyConflictError. */
  async copy({ source, target, actor }: CopyRequest): Promise<{ digest: string; tags: string[] }> {
    const { metadata } = this.deps;
    const manifests = await this.tree(source.repositoryId, source.digest);
    const tags = await metadata.tagsOf(source.repositoryId, source.digest);
    const repositoryId = await metadata.ensureRepository(target.name, target.project.id);
    if (await metadata.manifestByDigest(repositoryId, source.digest)) {
      throw new CopyConflictError(`the artifact ${target.name}@${source.digest} already exists`);
    }
    for (const tag of tags) {
      await assertTagChangeAllowed(this.deps, target.project, target.name, repositoryId, { kind: "push", tag, digest: source.digest });
    }
    const blobs = await this.blobsOf(source.repositoryId, manifests.map((m) => m.digest));
    await this.deps.quotas.admitBlobs({ ...target.project, public: isPublic(target.project) }, { digest: source.digest, blobs, operator: actor.username, repository: target.name });
    for (const blob of blobs) {
      if (!(await metadata.mountBlob(repositoryId, blob.digest))) throw new CopyConflictError(`blob ${blob.digest} was just garbage-collected; try again`);
    }
    const references = await this.referencesOf(source.repositoryId, manifests.map((m) => m.digest));
    const description = `copy artifact: ${source.name}@${source.digest} to ${target.name}${tags.length ? ` (tags ${tags.join(", ")})` : ""}`;
    for (const manifest of manifests) {
      const isRoot = manifest.digest === source.digest;
      await metadata.putManifest(repositoryId, stored(manifest, references.get(manifest.digest) ?? []), null, async (tx) => {
        if (!isRoot) return;
        for (const tag of tags) await metadata.setTag(repositoryId, tag, manifest.digest, tx);
        const entry: AuditEntry = { projectId: target.project.id, operation: "create", resourceType: "artifact", resource: `${target.name}@${source.digest}`, description };
        await this.deps.audit.record(tx, entry, actor);
      });
    }
    await this.deps.events.publish({
      type: "PUSH_ARTIFACT",
      projectId: target.project.id,
      operator: actor.username,
      occurredAt: new Date(),
      repository: { name: target.name, public: isPublic(target.project) },
      resources: tags.length ? tags.map((tag) => ({ digest: source.digest, tag })) : [{ digest: source.digest, tag: null }],
    });
    return { digest: source.digest, tags };
  }

  /**
   * The artifact's manifests in an order the target can store them in: an index's children before the index, and
   * each manifest's accessories (referrers, which may have accessories of their own) after it.
   */
  private async tree(repositoryId: number, root: string): Promise<SourceManifest[]> {
    const ordered: SourceManifest[] = [];
    const seen = new Set<string>();
    const visit = async (digest: string): Promise<void> => {
      if (seen.has(digest)) return;
      seen.add(digest);
      const [manifest] = await this.deps.sql.query<SourceManifest>(
        "SELECT digest, media_type, content, artifact_type, subject_digest, annotations FROM manifests WHERE repository_id = $1 AND digest = $2",
        [repositoryId, digest],
      );
      if (!manifest) throw new CopyConflictError(`manifest ${digest} was removed from the source while copying`);
      const children = await this.deps.sql.query<{ digest: string }>(
        "SELECT child_digest AS digest FROM manifest_references WHERE repository_id = $1 AND parent_digest = $2 AND child_kind = 'manifest' ORDER BY child_digest",
        [repositoryId, digest],
      );
      for (const child of children) await visit(child.digest);
      ordered.push(manifest);
      const accessories = await this.deps.sql.query<{ digest: string }>(
        "SELECT digest FROM manifests WHERE repository_id = $1 AND subject_digest = $2 ORDER BY created_at, digest",
        [repositoryId, digest],
      );
      for (const accessory of accessories) await visit(accessory.digest);
    };
    await visit(root);
    return ordered;
  }

  private blobsOf(repositoryId: number, digests: string[]): Promise<{ digest: string; size: number }[]> {
    return this.deps.sql.query(
      `SELECT DISTINCT b.digest, b.size FROM manifest_references r JOIN blobs b ON b.digest = r.child_digest
        WHERE r.repository_id = $1 AND r.parent_digest = ANY($2::text[]) AND r.child_kind = 'blob' ORDER BY b.digest`,
      [repositoryId, digests],
    );
  }

  private async referencesOf(repositoryId: number, digests: string[]): Promise<Map<string, ManifestReference[]>> {
    const rows = await this.deps.sql.query<{ parent_digest: string; child_digest: string; child_kind: ManifestReference["kind"] }>(
      "SELECT parent_digest, child_digest, child_kind FROM manifest_references WHERE repository_id = $1 AND parent_digest = ANY($2::text[])",
      [repositoryId, digests],
    );
    const references = new Map<string, ManifestReference[]>();
    for (const row of rows) references.set(row.parent_digest, [...(references.get(row.parent_digest) ?? []), { digest: row.child_digest, kind: row.child_kind }]);
    return references;
  }
}

function stored(manifest: SourceManifest, references: ManifestReference[]): NewManifest {
  return {
    digest: manifest.digest,
    mediaType: manifest.media_type,
    content: manifest.content,
    artifactType: manifest.artifact_type,
    subjectDigest: manifest.subject_digest,
    annotations: manifest.annotations,
    references,
  };
}
