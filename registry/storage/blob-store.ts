import type { Readable } from "node:stream";

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed blob storage. Blobs are keyed by their digest (`sha256:<hex>` or `sha512:<hex>`);
 * uploads are keyed by an opaque session id and are invisible until committed.
 *
 * The store does not hash: callers hash while they stream and pass the verified digest to
 * `commitUpload`. The store guarantees that a committed blob is complete and durable (a crash at any
 * point leaves either no blob or the whole blob under its digest), and that upload bytes survive a
 * restart of the process.
 */
export interface BlobStore {
  /** Size of a committed blob, or null when it does not exist. */
  stat(digest: string): Promise<{ size: number } | null>;
  /** Streams a committed blob (optionally a byte range of it); null when it does not exist. */
  read(digest: string, range?: ByteRange): Promise<Readable | null>;
  /**
   * Where a client may fetch the whole committed blob itself for a short while (a presigned S3 URL), so its bytes do
   * not pass through this process; null (or no such method) when the store serves blobs only through read().
   */
  redirectUrl?(digest: string): Promise<string | null>;
  /** Removes a committed blob; false when it did not exist. */
  delete(digest: string): Promise<boolean>;
  /** Every committed blob's digest, in no particular order. */
  list(): AsyncIterable<string>;

  /** Creates an empty upload area for a new session. */
  startUpload(id: string): Promise<void>;
  /** Current number of bytes in an upload, or null when no such upload exists. */
  uploadSize(id: string): Promise<number | null>;
  /**
   * Appends `source` to the upload. Resolves with the new size once the bytes are written.
   * When `source` errors or ends early, the bytes it wrote are discarded again, so the upload stays at
   * its previous size and can be retried from there.
   *
   * `last`: these are the upload's last bytes, and the caller hashes them as they pass and will commit them as the
   * blob `last` only if that digest verifies (without readUpload), or else abort the upload. A store may then write
   * them where that blob goes (still invisible) and take no more bytes for the upload.
   */
  appendUpload(id: string, source: Readable, last?: string): Promise<number>;
  /**
   * Streams the bytes of an upload so far, to hash them when the caller has no running hash (another node took a
   * chunk, or this process restarted). An object store may assemble the upload for it: no bytes can be appended
   * after, only commitUpload or abortUpload.
   */
  readUpload(id: string): Promise<Readable>;
  /**
   * Makes the upload's bytes the blob `digest`, atomically and durably, and removes the upload.
   * When the blob already exists the upload is simply dropped.
   */
  commitUpload(id: string, digest: string): Promise<void>;
  /** Drops an upload and its bytes; no error when it does not exist. */
  abortUpload(id: string): Promise<void>;
  /** Ids of all uploads present, with their last modification time (for stale-upload cleanup). */
  listUploads(): AsyncIterable<{ id: string; modified: Date }>;

  /** Object stores: aborts multipart writes older than `olderThanMs` that a killed process left open. */
  abortStaleMultipartUploads?(olderThanMs: number): Promise<number>;

  /** Cheap liveness check for /health. Throws when the store cannot be reached or written. */
  ping(): Promise<void>;
}
