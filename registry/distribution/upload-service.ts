import { createHash, randomUUID, type Hash } from "node:crypto";
import { finished, pipeline, Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline as pipelineAsync } from "node:stream/promises";
import type { BlobStore } from "../storage/blob-store";
import { HashingStream, type ParsedDigest } from "./digest";
import { OciError } from "./errors";
import type { DistributionMetadata } from "./metadata";

/** Told about every chunk streamed into storage (metrics). */
export interface TransferObserver {
  started(): void;
  ended(bytes: number): void;
}

/** Passes at most `limit` bytes; one more fails the stream, so the store discards the chunk. */
class SizeCap extends Transform {
  exceeded = false;
  private passed = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.passed += chunk.length;
    if (this.passed > this.limit) {
      this.exceeded = true;
      callback(new Error("size cap exceeded"));
      return;
    }
    callback(null, chunk);
  }
}

/** How much of a chunk may wait between the socket and the store (per upload in progress). */
const UPLOAD_BUFFER_BYTES = 1024 * 1024;

/** The shape of the ids start() hands out (randomUUID). */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface RunningHash {
  hash: Hash;
  size: number;
}

/**
 * Blob upload sessions. Bytes go to the blob store as they arrive and are hashed on the way (sha256). The
 * running hash is only a cache: when it is missing or stale (another node took a chunk, or this process
 * restarted), the upload's bytes are hashed again from the store, so sessions survive restarts.
 */
export class UploadService {
  private readonly hashes = new Map<string, RunningHash>();
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: BlobStore,
    private readonly metadata: DistributionMetadata,
    private readonly observer: TransferObserver = { started: () => undefined, ended: () => undefined },
  ) {}

  /**
   * Opens a session for `owner` (who asks: a user, a robot, the proxy). With `limit`, an owner who already holds that
   * many open sessions is refused with 429 until some finish, are cancelled or are purged.
   */
  async start(repositoryId: number, owner: string, limit?: number): Promise<string> {
    if (limit !== undefined && (await this.metadata.openUploads(owner)) >= limit) {
      throw new OciError("TOOMANYREQUESTS", `${owner} has ${limit} upload sessions open already (BERTH_MAX_UPLOADS_PER_USER): finish or cancel some first`, { limit });
    }
    const id = randomUUID();
    await this.store.startUpload(id);
    await this.metadata.createUpload(id, repositoryId, owner);
    this.hashes.set(id, { hash: createHash("sha256"), size: 0 });
    return id;
  }

  /** Size of an upload that belongs to the repository; BLOB_UPLOAD_UNKNOWN otherwise. */
  async size(id: string, repositoryId: number): Promise<number> {
    await this.requireSession(id, repositoryId);
    const size = await this.store.uploadSize(id);
    if (size === null) throw new OciError("BLOB_UPLOAD_UNKNOWN", `upload ${id} has no data`);
    return size;
  }

  /**
   * Appends a chunk. `expectedStart` is where the client says it starts (from Content-Range); a chunk that
   * does not continue the upload where it ends is refused with 416, and the upload is unchanged.
   */
  append(id: string, repositoryId: number, source: Readable, expectedStart: number | null, maxSize: number | null = null): Promise<number> {
    return this.exclusive(id, async () => {
      const size = await this.size(id, repositoryId);
      if (expectedStart !== null && expectedStart !== size) {
        source.resume(); // drain, so the connection can be reused
        throw new OciError("RANGE_INVALID", `chunk starts at ${expectedStart} but the upload has ${size} bytes`, {
          size,
        });
      }
      return this.write(id, size, source, maxSize);
    });
  }

  /**
   * Ends the upload with an optional last chunk, verifies the digest and makes the blob visible. `admit` may refuse
   * the verified blob (a quota): the upload is then discarded whole and nothing becomes visible.
   */
  finish(
    id: string,
    repositoryId: number,
    digest: ParsedDigest,
    lastChunk: Readable | null,
    admit: (size: number) => Promise<void> = async () => undefined,
  ): Promise<number> {
    return this.exclusive(id, async () => {
      let size = await this.size(id, repositoryId);
      const expected = `${digest.algorithm}:${digest.hex}`;
      // With a running sha256 the digest is verified from the stream alone: the store may then write the last bytes
      // where the blob goes (S3: its multipart upload at the blob's key), and the session ends either way.
      const landing = lastChunk !== null && digest.algorithm === "sha256" && this.runningHash(id, size) !== null;
      if (lastChunk !== null) size = await this.write(id, size, lastChunk, null, landing ? expected : undefined);
      const actual = await this.digestOf(id, size, digest.algorithm);
      if (actual !== expected) {
        // A PUT that brought bytes ends the session, as distribution's does (on S3 those bytes may sit in a multipart
        // upload at the claimed blob's key, which is aborted); one without bytes leaves the session as it was, so
        // the client can still finish it with the right digest.
        if (lastChunk !== null) await this.discard(id);
        throw new OciError("DIGEST_INVALID", `upload content has digest ${actual}, not ${expected}`, { digest: expected });
      }
      try {
        await admit(size);
      } catch (error) {
        await this.discard(id);
        throw error;
      }
      try {
        await this.store.commitUpload(id, expected);
      } catch (error) {
        if (landing) await this.discard(id).catch(() => undefined);
        throw error;
      }
      await this.metadata.recordBlob(repositoryId, expected, size, async () => (await this.store.stat(expected)) !== null);
      await this.metadata.deleteUpload(id);
      this.hashes.delete(id);
      return size;
    });
  }

  /** Drops the running hashes of sessions that were purged (their rows and bytes are gone). */
  forget(ids: string[]): void {
    for (const id of ids) this.hashes.delete(id);
  }

  async cancel(id: string, repositoryId: number): Promise<void> {
    await this.exclusive(id, async () => {
      await this.requireSession(id, repositoryId);
      await this.discard(id);
    });
  }

  private async discard(id: string): Promise<void> {
    await this.metadata.deleteUpload(id);
    await this.store.abortUpload(id);
    this.hashes.delete(id);
  }

  private async requireSession(id: string, repositoryId: number): Promise<void> {
    // Only ids start() made exist; anything else (a NUL, which PostgreSQL text refuses) must not reach the database.
    const owner = SESSION_ID.test(id) ? await this.metadata.uploadRepository(id) : null;
    if (owner !== repositoryId) throw new OciError("BLOB_UPLOAD_UNKNOWN", `upload ${id.slice(0, 100)} is unknown`);
  }

  /** The sha256 of the session's `size` bytes so far, when this process has it (an empty session always has). */
  private runningHash(id: string, size: number): Hash | null {
    const running = this.hashes.get(id);
    if (running && running.size === size) return running.hash;
    return size === 0 ? createHash("sha256") : null;
  }

  /** With `maxSize`, a chunk that would take the session past it is cut and refused (DENIED), the session unchanged. */
  private async write(id: string, size: number, source: Readable, maxSize: number | null = null, last?: string): Promise<number> {
    const running = this.runningHash(id, size);
    const hash = running ?? createHash("sha256");
    // Without a matching running hash, hashing now would miss the earlier bytes: catch up at the end instead.
    const catchUp = running === null;
    this.hashes.delete(id); // until the write succeeds, the hash may hold bytes the store discarded
    // 1 MiB of slack each side: the socket is still read (and hashed) while the store waits for its last disk write.
    const tap = new HashingStream(hash, UPLOAD_BUFFER_BYTES);
    const cap = maxSize === null ? null : new SizeCap(maxSize - size);
    // pipeline passes a client's disconnect on to `tap` as an error, so the store discards the partial chunk.
    if (cap) {
      // Not pipeline(source, cap, …): a refused chunk must leave the request alive so the client gets the 403.
      pipeline(cap, tap, () => undefined);
      source.pipe(cap);
      finished(source, (error) => error && cap.destroy(error));
      cap.once("error", () => {
        source.unpipe(cap);
        source.resume();
      });
    } else pipeline(source, tap, () => undefined);
    let newSize: number;
    this.observer.started();
    try {
      newSize = await this.store.appendUpload(id, tap, last);
    } catch (error) {
      if (cap?.exceeded) throw new OciError("DENIED", `the upload would exceed the project's storage quota (${maxSize} bytes left for this upload)`, { limit: maxSize });
      throw error;
    } finally {
      this.observer.ended(tap.bytes);
    }
    if (!catchUp) this.hashes.set(id, { hash, size: newSize });
    await this.metadata.touchUpload(id);
    return newSize;
  }

  private async digestOf(id: string, size: number, algorithm: ParsedDigest["algorithm"]): Promise<string> {
    const running = this.hashes.get(id);
    if (algorithm === "sha256" && running && running.size === size) {
      return `sha256:${running.hash.copy().digest("hex")}`;
    }
    const hash = createHash(algorithm);
    await pipelineAsync(await this.store.readUpload(id), new HashingStream(hash), async function* (chunks) {
      for await (const _ of chunks); // the hash is all we need
    });
    return `${algorithm}:${hash.digest("hex")}`;
  }

  /** Runs operations on one upload one at a time (two PATCHes racing would interleave bytes). */
  private exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(id) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.busy.set(id, settled);
    void settled.then(() => {
      if (this.busy.get(id) === settled) this.busy.delete(id);
    });
    return run;
  }
}
