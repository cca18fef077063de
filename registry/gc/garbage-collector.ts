import type { Sql } from "../db/sql";
import type { DistributionMetadata } from "../distribution/metadata";
import { lockDigest } from "../distribution/metadata";
import type { BlobStore } from "../storage/blob-store";

export interface GcOptions {
  /** Only what has been untouched this long goes: a push in flight (blobs uploaded, manifest not yet) is safe. */
  graceMs: number;
  /** Also remove manifests no tag, index or live subject refers to (Harbor's delete_untagged). */
  deleteUntagged: boolean;
  /** Report what would go, change nothing. */
  dryRun: boolean;
  signal?: AbortSignal;
  log?: (line: string) => Promise<void>;
}

export interface GcResult {
  deletedManifests: number;
  unlinkedBlobs: number;
  deletedBlobs: number;
  freedBytes: number;
  removedUploads: number;
}

/** A manifest or blob link: its repository and digest. */
interface ManifestKey {
  repository_id: number;
  digest: string;
}

/**
 * The default grace period: an hour, far longer than any push takes between its first blob and its manifest. GC is
 * only safe against pushes whose transaction touches what it uses within the grace period of GC's start; a grace
 * period shorter than a push transaction can take (0 in tests) can let GC delete what that push then commits.
 */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
// Upload sessions untouched this long are abandoned (a client that stopped mid-push and never came back).
export const DEFAULT_UPLOAD_PURGE_MS = 24 * 60 * 60 * 1000;
// Deleting an index can orphan its children, deleting those their referrers: at most this many rounds per run.
const MAX_MANIFEST_ROUNDS = 10;

// An untagged manifest nothing refers to: no tag, not the child of an index, not a referrer of a manifest that is
// still there. Used both to list candidates and, row by row, to re-check them as they are deleted.
const UNREFERENCED_MANIFEST = `
  m.last_used < $1
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)
  AND NOT EXISTS (SELECT 1 FROM manifest_references r
                   WHERE r.repository_id = m.repository_id AND r.child_digest = m.digest AND r.child_kind = 'manifest')
  AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s
                                                WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))`;

// A blob link no manifest of its repository refers to.
const UNREFERENCED_LINK = `
  rb.last_used < $1
  AND NOT EXISTS (SELECT 1 FROM manifest_references r
                   WHERE r.repository_id = rb.repository_id AND r.child_digest = rb.digest AND r.child_kind = 'blob')`;

// The same, for a dry run that pretends the manifests listed in $2 (repository ids) and $3 (digests) are gone.
const UNREFERENCED_LINK_IF_GONE = `
  rb.last_used < $1
  AND NOT EXISTS (SELECT 1 FROM manifest_references r
                   WHERE r.repository_id = rb.repository_id AND r.child_digest = rb.digest AND r.child_kind = 'blob'
                     AND (r.repository_id, r.parent_digest) NOT IN (SELECT * FROM unnest($2::bigint[], $3::text[])))`;

// A blob no repository links.
const UNLINKED_BLOB = `b.last_used < $1 AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)`;

/**
 * Online garbage collection. Every deletion is one small statement that re-checks its own condition, so a push
 * that touched a row (see DistributionMetadata.touchReferences) while GC looked elsewhere keeps it; blob files are
 * removed under the same per-digest lock that uploads and mounts take, after the row is gone.
 */
export class GarbageCollector {
  constructor(
    private readonly sql: Sql,
    private readonly store: BlobStore,
    private readonly metadata: DistributionMetadata,
    private readonly uploadPurgeMs: number = DEFAULT_UPLOAD_PURGE_MS,
  ) {}

  async run(options: GcOptions): Promise<GcResult> {
    // The database's clock, which also stamps every touch: no skew between this process and the server matters.
    const [{ cutoff }] = await this.sql.query<{ cutoff: Date }>("SELECT clock_timestamp() - make_interval(secs => $1) AS cutoff", [options.graceMs / 1000]);
    const log = options.log ?? (async () => undefined);
    const result: GcResult = { deletedManifests: 0, unlinkedBlobs: 0, deletedBlobs: 0, freedBytes: 0, removedUploads: 0 };
    await log(`garbage collection${options.dryRun ? " (dry run)" : ""}: removing what has been unused since ${cutoff.toISOString()}`);
    const doomed = options.deleteUntagged ? await this.sweepManifests(cutoff, options, log) : [];
    result.deletedManifests = doomed.length;
    const links = await this.sweepLinks(cutoff, options, log, doomed);
    result.unlinkedBlobs = links.length;
    const blobs = await this.sweepBlobs(cutoff, options, log, links);
    result.deletedBlobs = blobs.count;
    result.freedBytes = blobs.bytes;
    if (!options.dryRun) {
      const purged = await this.purgeUploads(options.signal);
      result.removedUploads = purged.sessions.length + purged.orphans;
      this.metadata.forgetAll();
    }
    await log(
      `done: ${result.deletedManifests} manifest(s), ${result.unlinkedBlobs} blob link(s), ${result.deletedBlobs} blob(s) ` +
        `(${result.freedBytes} bytes)${options.dryRun ? " would be removed" : " removed"}, ${result.removedUploads} abandoned upload(s)`,
    );
    return result;
  }

  /** Removes unreferenced untagged manifests, round after round; returns them (in a dry run: what would go first). */
  private async sweepManifests(cutoff: Date, options: GcOptions, log: (line: string) => Promise<void>): Promise<ManifestKey[]> {
    const removed: ManifestKey[] = [];
    for (let round = 0; round < MAX_MANIFEST_ROUNDS && !options.signal?.aborted; round++) {
      const candidates = await this.sql.query<{ repository_id: number; digest: string; name: string }>(
        `SELECT m.repository_id, m.digest, r.name FROM manifests m JOIN repositories r ON r.id = m.repository_id
          WHERE ${UNREFERENCED_MANIFEST} ORDER BY m.repository_id, m.digest`,
        [cutoff],
      );
      const deleted = await this.deleteEach(candidates, cutoff, options, log, {
        statement: `DELETE FROM manifests m WHERE m.repository_id = $2 AND m.digest = $3 AND ${UNREFERENCED_MANIFEST} RETURNING digest`,
        label: "manifest",
      });
      removed.push(...deleted);
      // A dry run cannot see what deleting this round would orphan next: one round is all it can tell.
      if (deleted.length === 0 || options.dryRun) break;
    }
    return removed;
  }

  /** Removes blob links no manifest refers to; returns them (a dry run counts the manifests it would remove as gone). */
  private async sweepLinks(cutoff: Date, options: GcOptions, log: (line: string) => Promise<void>, doomed: ManifestKey[]): Promise<ManifestKey[]> {
    const candidates = await this.sql.query<{ repository_id: number; digest: string; name: string }>(
      `SELECT rb.repository_id, rb.digest, r.name FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
        WHERE ${options.dryRun ? UNREFERENCED_LINK_IF_GONE : UNREFERENCED_LINK} ORDER BY rb.repository_id, rb.digest`,
      options.dryRun ? [cutoff, doomed.map((m) => m.repository_id), doomed.map((m) => m.digest)] : [cutoff],
    );
    return this.deleteEach(candidates, cutoff, options, log, {
      statement: `DELETE FROM repository_blobs rb WHERE rb.repository_id = $2 AND rb.digest = $3 AND ${UNREFERENCED_LINK} RETURNING digest`,
      label: "blob link",
    });
  }

  /**
   * Deletes candidates one statement each, the statement re-checking the condition that made them candidates (a
   * push may have touched one since): returns those actually removed (in a dry run, all of them).
   */
  private async deleteEach(
    candidates: (ManifestKey & { name: string })[],
    cutoff: Date,
    options: GcOptions,
    log: (line: string) => Promise<void>,
    what: { statement: string; label: string },
  ): Promise<ManifestKey[]> {
    const removed: ManifestKey[] = [];
    for (const candidate of candidates) {
      if (options.signal?.aborted) break;
      const gone = options.dryRun || (await this.sql.query(what.statement, [cutoff, candidate.repository_id, candidate.digest])).length > 0;
      if (!gone) continue;
      await log(`${what.label} ${candidate.name}@${candidate.digest}`);
      removed.push({ repository_id: candidate.repository_id, digest: candidate.digest });
    }
    return removed;
  }

  /** Blobs no repository links any more (in a dry run: also those whose last link this run would remove). */
  private async sweepBlobs(cutoff: Date, options: GcOptions, log: (line: string) => Promise<void>, unlinked: ManifestKey[]): Promise<{ count: number; bytes: number }> {
    const condition = options.dryRun
      ? `b.last_used < $1 AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest
                                           AND (rb.repository_id, rb.digest) NOT IN (SELECT * FROM unnest($2::bigint[], $3::text[])))`
      : UNLINKED_BLOB;
    const params = options.dryRun ? [cutoff, unlinked.map((l) => l.repository_id), unlinked.map((l) => l.digest)] : [cutoff];
    const candidates = await this.sql.query<{ digest: string; size: number }>(`SELECT b.digest, b.size FROM blobs b WHERE ${condition} ORDER BY b.digest`, params);
    let count = 0;
    let bytes = 0;
    for (const candidate of candidates) {
      if (options.signal?.aborted) break;
      if (!options.dryRun && !(await this.deleteBlob(candidate.digest, cutoff))) continue;
      await log(`blob ${candidate.digest} (${candidate.size} bytes)`);
      count += 1;
      bytes += candidate.size;
    }
    return { count, bytes };
  }

  /** Deletes the blob's row, then its file once the row is surely gone; false when a push claimed it meanwhile. */
  private async deleteBlob(digest: string, cutoff: Date): Promise<boolean> {
    const deleted = await this.sql.transaction(async (tx) => {
      await lockDigest(tx, digest);
      return (await tx.query(`DELETE FROM blobs b WHERE b.digest = $2 AND ${UNLINKED_BLOB} RETURNING digest`, [cutoff, digest])).length > 0;
    });
    if (deleted) await this.deleteFileIfUnrecorded(digest);
    return deleted;
  }

  /**
   * Removes a blob file no row records, under the digest's lock: an upload that committed the same bytes meanwhile
   * records its row under that lock too, so either it sees the file gone (and fails) or GC sees the row (and keeps).
   */
  private async deleteFileIfUnrecorded(digest: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await lockDigest(tx, digest);
      const recorded = await tx.query("SELECT 1 FROM blobs WHERE digest = $1", [digest]);
      if (recorded.length === 0) await this.store.delete(digest);
    });
  }

  /**
   * Upload sessions abandoned for `uploadPurgeMs` (a day by default): their rows and bytes, and upload areas no
   * session knows. Runs with every GC and on its own every hour.
   */
  async purgeUploads(signal?: AbortSignal): Promise<{ sessions: string[]; orphans: number }> {
    const cutoff = Date.now() - this.uploadPurgeMs;
    const stale = await this.sql.query<{ id: string }>("SELECT id FROM uploads WHERE updated_at < $1", [new Date(cutoff)]);
    for (const { id } of stale) {
      if (signal?.aborted) break;
      await this.sql.query("DELETE FROM uploads WHERE id = $1", [id]);
      await this.store.abortUpload(id);
    }
    // Upload areas no session row knows (a process killed between creating the area and its row), just as old.
    let orphans = 0;
    for await (const upload of this.store.listUploads()) {
      if (signal?.aborted || upload.modified.getTime() >= cutoff) continue;
      const [row] = await this.sql.query("SELECT 1 FROM uploads WHERE id = $1", [upload.id]);
      if (row) continue;
      await this.store.abortUpload(upload.id);
      orphans += 1;
    }
    // Multipart writes a killed process left open in an object store.
    await this.store.abortStaleMultipartUploads?.(this.uploadPurgeMs);
    return { sessions: stale.map((row) => row.id), orphans };
  }
}
