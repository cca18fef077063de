import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { Queryable, Sql } from "../db/sql";
import { OciError } from "./errors";

export interface StoredManifest {
  digest: string;
  media_type: string;
  size: number;
  content: Buffer;
  subject_digest: string | null;
}

export interface ManifestReference {
  digest: string;
  kind: "blob" | "manifest";
}

export interface NewManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
  artifactType: string | null;
  subjectDigest: string | null;
  annotations: Record<string, string> | null;
  references: ManifestReference[];
}

export interface ReferrerRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  annotations: Record<string, string> | null;
}

/** Repository, blob-link, manifest and tag metadata of the /v2 API. */
export class DistributionMetadata {
  // Pulls read these on every request; see ReadCache for what may be stale and for how long.
  private readonly repositoryIds = new ReadCache<number>({ max: 10_000, ttlMs: CACHE_TTL_MS });
  private readonly tagDigests = new ReadCache<string>({ max: 50_000, ttlMs: CACHE_TTL_MS });
  private readonly blobLinks = new ReadCache<number>({ max: 50_000, ttlMs: CACHE_TTL_MS });
  private readonly manifests = new ReadCache<StoredManifest>({
    max: 10_000,
    ttlMs: CACHE_TTL_MS,
    maxSize: 64 * 1024 * 1024,
    sizeOf: (manifest) => manifest.size + 200,
  });

  constructor(private readonly sql: Sql) {}

  repositoryId(name: string): Promise<number | null> {
    return this.repositoryIds.get(name, async () => {
      const [row] = await this.sql.query<{ id: number }>("SELECT id FROM repositories WHERE name = $1", [name]);
      return row?.id ?? null;
    });
  }

  /** The repository's id, creating the row (under its project) when this is its first write. */
  async ensureRepository(name: string, projectId: number, db: Queryable = this.sql): Promise<number> {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO repositories (project_id, name) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET updated_at = repositories.updated_at RETURNING id`,
      [projectId, name],
    );
    return row.id;
  }

  /**
   * Whether the repository holds a manifest or a blob, i.e. whether its tag list answers (possibly empty) rather
   * than NAME_UNKNOWN: deleting its last manifest leaves a repository that still exists (conformance suite).
   */
  async repositoryHasContent(repositoryId: number): Promise<boolean> {
    const rows = await this.sql.query(
      `SELECT 1 WHERE EXISTS (SELECT 1 FROM manifests WHERE repository_id = $1)
                   OR EXISTS (SELECT 1 FROM repository_blobs WHERE repository_id = $1)`,
      [repositoryId],
    );
    return rows.length > 0;
  }

  /** Size of a blob linked into the repository, or null. */
  linkedBlobSize(repositoryId: number, digest: string): Promise<number | null> {
    return this.blobLinks.get(`${repositoryId}/${digest}`, async () => {
      const [row] = await this.sql.query<{ size: number }>(
        `SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
          WHERE rb.repository_id = $1 AND rb.digest = $2`,
        [repositoryId, digest],
      );
      return row?.size ?? null;
    });
  }

  /**
   * Records a blob just committed to the store and links it into the repository. Garbage collection removes a blob
   * under the same per-digest lock, so `stillStored` (asked under the lock) tells whether GC removed the file between
   * the commit and now: then the upload fails and the client pushes again, rather than a row pointing at nothing.
   */
  async recordBlob(repositoryId: number, digest: string, size: number, stillStored: () => Promise<boolean>): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await lockDigest(tx, digest);
      if (!(await stillStored())) {
        throw new OciError("BLOB_UPLOAD_INVALID", `blob ${digest} was garbage-collected while the upload finished; push it again`);
      }
      await tx.query(
        "INSERT INTO blobs (digest, size) VALUES ($1, $2) ON CONFLICT (digest) DO UPDATE SET last_used = clock_timestamp()",
        [digest, size],
      );
      await this.touchLink(tx, repositoryId, digest);
    });
  }

  /** Links a blob the registry already holds into another repository (a mount); false when GC just removed it. */
  async mountBlob(repositoryId: number, digest: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      await lockDigest(tx, digest);
      const touched = await tx.query("UPDATE blobs SET last_used = clock_timestamp() WHERE digest = $1 RETURNING digest", [digest]);
      if (touched.length === 0) return false;
      await this.touchLink(tx, repositoryId, digest);
      return true;
    });
  }

  private async touchLink(tx: Queryable, repositoryId: number, digest: string): Promise<void> {
    await tx.query(
      `INSERT INTO repository_blobs (repository_id, digest) VALUES ($1, $2)
       ON CONFLICT (repository_id, digest) DO UPDATE SET last_used = clock_timestamp()`,
      [repositoryId, digest],
    );
  }

  async unlinkBlob(repositoryId: number, digest: string, db: Queryable = this.sql): Promise<boolean> {
    const rows = await db.query(
      "DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2 RETURNING digest",
      [repositoryId, digest],
    );
    this.blobLinks.delete(`${repositoryId}/${digest}`);
    return rows.length > 0;
  }

  /** Which of `digests` are missing from the repository, as blobs or as manifests (by kind). */
  async missingReferences(repositoryId: number, references: ManifestReference[]): Promise<string[]> {
    const blobs = references.filter((r) => r.kind === "blob").map((r) => r.digest);
    const manifests = references.filter((r) => r.kind === "manifest").map((r) => r.digest);
    const present = new Set<string>();
    if (blobs.length) {
      const rows = await this.sql.query<{ digest: string }>(
        "SELECT digest FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2::text[])",
        [repositoryId, blobs],
      );
      rows.forEach((r) => present.add(r.digest));
    }
    if (manifests.length) {
      const rows = await this.sql.query<{ digest: string }>(
        "SELECT digest FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[])",
        [repositoryId, manifests],
      );
      rows.forEach((r) => present.add(r.digest));
    }
    return [...new Set(references.map((r) => r.digest))].filter((d) => !present.has(d));
  }

  /**
   * Stores a manifest (idempotent by digest) and points `tag` at it when given. `alsoInTransaction` runs before
   * the commit (the audit record of the push).
   */
  async putManifest(
    repositoryId: number,
    manifest: NewManifest,
    tag: string | null,
    alsoInTransaction: (tx: Queryable) => Promise<void> = async () => undefined,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await this.touchReferences(tx, repositoryId, manifest.references);
      // Re-pushing a manifest touches it, so garbage collection (which re-checks last_used as it deletes) keeps it.
      await tx.query(
        `INSERT INTO manifests (repository_id, digest, media_type, size, content, artifact_type, subject_digest, annotations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repository_id, digest) DO UPDATE SET last_used = clock_timestamp()`,
        [
          repositoryId,
          manifest.digest,
          manifest.mediaType,
          manifest.content.length,
          manifest.content,
          manifest.artifactType,
          manifest.subjectDigest,
          manifest.annotations === null ? null : JSON.stringify(manifest.annotations),
        ],
      );
      // One statement for every reference: a statement each made a many-layer manifest hold the database for seconds.
      if (manifest.references.length > 0) {
        await tx.query(
          `INSERT INTO manifest_references (repository_id, parent_digest, child_digest, child_kind)
           SELECT $1, $2, child.digest, child.kind FROM unnest($3::text[], $4::text[]) AS child(digest, kind) ON CONFLICT DO NOTHING`,
          [repositoryId, manifest.digest, manifest.references.map((r) => r.digest), manifest.references.map((r) => r.kind)],
        );
      }
      if (tag !== null) await this.setTag(repositoryId, tag, manifest.digest, tx);
      await tx.query("UPDATE repositories SET updated_at = now() WHERE id = $1", [repositoryId]);
      await alsoInTransaction(tx);
    });
    if (tag !== null) this.tagDigests.delete(`${repositoryId}/${tag}`);
  }

  /** Points `tag` at a manifest, moving it when it pointed elsewhere (within the caller's transaction). */
  async setTag(repositoryId: number, tag: string, digest: string, db: Queryable = this.sql): Promise<void> {
    await db.query(
      `INSERT INTO tags (repository_id, name, digest) VALUES ($1, $2, $3)
       ON CONFLICT (repository_id, name) DO UPDATE SET digest = EXCLUDED.digest, updated_at = now()`,
      [repositoryId, tag, digest],
    );
    this.tagDigests.delete(`${repositoryId}/${tag}`);
  }

  /**
   * Marks what a manifest being stored refers to as used, inside its transaction (at the clock's time, not the
   * transaction's start: GC compares with its own start). A garbage collection deleting one
   * of them at the same moment either waits for this transaction and then sees a fresh last_used (and keeps it), or
   * deleted it first, and then this push fails as if the reference had never been there.
   */
  private async touchReferences(tx: Queryable, repositoryId: number, references: ManifestReference[]): Promise<void> {
    const unique = (kind: ManifestReference["kind"]) => [...new Set(references.filter((r) => r.kind === kind).map((r) => r.digest))];
    for (const [kind, table] of [["blob", "repository_blobs"], ["manifest", "manifests"]] as const) {
      const digests = unique(kind);
      if (digests.length === 0) continue;
      const touched = await tx.query<{ digest: string }>(
        `UPDATE ${table} SET last_used = clock_timestamp() WHERE repository_id = $1 AND digest = ANY($2::text[]) RETURNING digest`,
        [repositoryId, digests],
      );
      if (touched.length !== digests.length) {
        const present = new Set(touched.map((t) => t.digest));
        const missing = digests.filter((d) => !present.has(d));
        throw unknownReferences(missing);
      }
    }
  }

  /** Forgets every cached read (garbage collection just removed rows behind the caches' backs). */
  forgetAll(): void {
    this.manifests.clear();
    this.tagDigests.clear();
    this.blobLinks.clear();
  }

  manifestByDigest(repositoryId: number, digest: string): Promise<StoredManifest | null> {
    return this.manifests.get(`${repositoryId}/${digest}`, async () => {
      const [row] = await this.sql.query<StoredManifest>(
        `SELECT digest, media_type, size, content, subject_digest FROM manifests WHERE repository_id = $1 AND digest = $2`,
        [repositoryId, digest],
      );
      return row ?? null;
    });
  }

  async manifestByTag(repositoryId: number, tag: string): Promise<StoredManifest | null> {
    const digest = await this.tagDigests.get(`${repositoryId}/${tag}`, async () => {
      const [row] = await this.sql.query<{ digest: string }>(
        "SELECT digest FROM tags WHERE repository_id = $1 AND name = $2",
        [repositoryId, tag],
      );
      return row?.digest ?? null;
    });
    return digest === null ? null : this.manifestByDigest(repositoryId, digest);
  }

  /** Deletes a manifest and every tag pointing at it. */
  async deleteManifest(repositoryId: number, digest: string, db: Queryable = this.sql): Promise<boolean> {
    const rows = await db.query(
      "DELETE FROM manifests WHERE repository_id = $1 AND digest = $2 RETURNING digest",
      [repositoryId, digest],
    );
    this.manifests.delete(`${repositoryId}/${digest}`);
    this.tagDigests.deletePrefix(`${repositoryId}/`);
    return rows.length > 0;
  }

  async deleteTag(repositoryId: number, tag: string, db: Queryable = this.sql): Promise<boolean> {
    const rows = await db.query("DELETE FROM tags WHERE repository_id = $1 AND name = $2 RETURNING name", [
      repositoryId,
      tag,
    ]);
    this.tagDigests.delete(`${repositoryId}/${tag}`);
    return rows.length > 0;
  }

  /** Adds a tag to a manifest; false when the repository already has that tag. */
  async addTag(repositoryId: number, tag: string, digest: string, db: Queryable = this.sql): Promise<boolean> {
    const rows = await db.query(
      "INSERT INTO tags (repository_id, name, digest) VALUES ($1, $2, $3) ON CONFLICT (repository_id, name) DO NOTHING RETURNING name",
      [repositoryId, tag, digest],
    );
    this.tagDigests.delete(`${repositoryId}/${tag}`);
    return rows.length > 0;
  }

  /** The tags pointing at a manifest. */
  async tagsOf(repositoryId: number, digest: string, db: Queryable = this.sql): Promise<string[]> {
    const rows = await db.query<{ name: string }>("SELECT name FROM tags WHERE repository_id = $1 AND digest = $2 ORDER BY name", [repositoryId, digest]);
    return rows.map((r) => r.name);
  }

  /** Tags in lexical (byte) order after `last`, at most `limit` (null = all). */
  async listTags(repositoryId: number, last: string | null, limit: number | null): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>(
      `SELECT name FROM tags WHERE repository_id = $1 AND ($2::text IS NULL OR name COLLATE "C" > $2)
        ORDER BY name COLLATE "C" ${limit === null ? "" : `LIMIT ${limit}`}`,
      [repositoryId, last],
    );
    return rows.map((r) => r.name);
  }

  async referrers(repositoryId: number, subjectDigest: string, artifactType: string | null): Promise<ReferrerRow[]> {
    return this.sql.query<ReferrerRow>(
      `SELECT digest, media_type, size, artifact_type, annotations FROM manifests
        WHERE repository_id = $1 AND subject_digest = $2 AND ($3::text IS NULL OR artifact_type = $3)
        ORDER BY created_at, digest`,
      [repositoryId, subjectDigest, artifactType],
    );
  }

  /** Repository names holding at least one manifest, in lexical order, optionally limited to projects. */
  async catalog(options: { last: string | null; limit: number | null; projectIds: number[] | null }): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>(
      `SELECT r.name FROM repositories r
        WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
          AND ($1::text IS NULL OR r.name COLLATE "C" > $1)
          AND ($2::int[] IS NULL OR r.project_id = ANY($2::int[]))
        ORDER BY r.name COLLATE "C" ${options.limit === null ? "" : `LIMIT ${options.limit}`}`,
      [options.last, options.projectIds],
    );
    return rows.map((r) => r.name);
  }

  // Upload sessions: the row binds a session id to its repository so any node can continue it.
  async createUpload(id: string, repositoryId: number, owner: string): Promise<void> {
    await this.sql.query("INSERT INTO uploads (id, repository_id, owner) VALUES ($1, $2, $3)", [id, repositoryId, owner]);
  }

  async openUploads(owner: string): Promise<number> {
    const [row] = await this.sql.query<{ open: number }>("SELECT count(*)::int AS open FROM uploads WHERE owner = $1", [owner]);
    return row.open;
  }

  async uploadRepository(id: string): Promise<number | null> {
    const [row] = await this.sql.query<{ repository_id: number }>("SELECT repository_id FROM uploads WHERE id = $1", [id]);
    return row?.repository_id ?? null;
  }

  async touchUpload(id: string): Promise<void> {
    await this.sql.query("UPDATE uploads SET updated_at = now() WHERE id = $1", [id]);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.sql.query("DELETE FROM uploads WHERE id = $1", [id]);
  }
}

/** The error for a manifest that refers to blobs or manifests the repository does not hold. */
export function unknownReferences(missing: string[]): OciError {
  return new OciError("MANIFEST_BLOB_UNKNOWN", `manifest references ${missing.length} unknown blob(s) or manifest(s): ${missing.slice(0, 5).join(", ")}`, {
    digests: missing,
  });
}

/** Serialises, across nodes, everything that creates or removes the blob `digest` (uploads, mounts, GC). */
export async function lockDigest(tx: Queryable, digest: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`blob:${digest}`]);
}
