import { randomBytes } from "node:crypto";
import { mkdir, open, opendir, rename, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Dirent } from "node:fs";
import type { Readable } from "node:stream";
import { parseDigest } from "../distribution/digest";
import { BlobFileStream } from "./blob-file-stream";
import { chunksOf } from "./chunks";
import type { BlobStore, ByteRange } from "./blob-store";

/** Thrown when an operation names an upload session that has no data file (never started, committed or aborted). */
export class UploadNotFoundError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload not found: ${uploadId}`);
    this.name = "UploadNotFoundError";
  }
}

/** Thrown for a digest or upload id that could not safely become part of a path. */
export class InvalidStorageKeyError extends Error {
  constructor(kind: "digest" | "upload id", value: string) {
    super(`invalid ${kind} for blob storage: ${JSON.stringify(value.slice(0, 200))}`);
    this.name = "InvalidStorageKeyError";
  }
}

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * BlobStore on a local filesystem.
 *
 * Layout under `rootDir`:
 *   blobs/<algorithm>/<first two hex chars>/<hex>   committed blobs
 *   uploads/<id>                                    one data file per open upload
 *
 * Uploads and blobs share the root so a commit is a same-filesystem rename, which is what makes it atomic.
 * Directories are created lazily, so there is no init step; the root need not exist yet.
 */
export class FilesystemBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;

  constructor(private readonly rootDir: string) {
    this.blobsDir = join(rootDir, "blobs");
    this.uploadsDir = join(rootDir, "uploads");
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    const path = this.blobPath(digest);
    try {
      return { size: (await stat(path)).size };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.blobPath(digest);
    if (range) assertValidRange(range);
    // Opening before building the stream turns "missing" into null instead of a stream that errors later,
    // and keeps the bytes readable even if the blob is deleted while the stream is being consumed.
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    // The size of a whole read, so its buffers are no bigger than the blob and the last read is not an empty one
    // past its end: without it a 1 MiB layer took two 2 MiB buffers and two reads.
    let end = range?.end;
    if (end === undefined) {
      try {
        end = (await handle.stat()).size - 1;
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    // Large reads: 64 KiB (the default) costs thousands of round trips to the thread pool per big layer.
    return new BlobFileStream(handle, range ? range.start : 0, end, READ_CHUNK_BYTES);
  }

  async delete(digest: string): Promise<boolean> {
    const path = this.blobPath(digest);
    try {
      await rm(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<string> {
    for await (const algorithm of directoryEntries(this.blobsDir)) {
      if (!algorithm.isDirectory()) continue;
      const algorithmDir = join(this.blobsDir, algorithm.name);
      for await (const prefix of directoryEntries(algorithmDir)) {
        if (!prefix.isDirectory()) continue;
        for await (const blob of directoryEntries(join(algorithmDir, prefix.name))) {
          const digest = `${algorithm.name}:${blob.name}`;
          // Anything that is not a well-formed digest in its right fan-out directory was not put there by us.
          if (blob.isFile() && parseDigest(digest)?.hex.slice(0, 2) === prefix.name) yield digest;
        }
      }
    }
  }

  async startUpload(id: string): Promise<void> {
    const path = this.uploadPath(id);
    await mkdir(this.uploadsDir, { recursive: true });
    // "wx" so a reused id fails loudly instead of silently discarding another session's bytes.
    await writeFile(path, new Uint8Array(0), { flag: "wx" });
  }

  async uploadSize(id: string): Promise<number | null> {
    const path = this.uploadPath(id);
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** `last` changes nothing here: the commit is a rename wherever the bytes are. */
  async appendUpload(id: string, source: Readable, _last?: string): Promise<number> {
    const handle = await this.openUpload(id, "r+");
    try {
      const sizeBefore = (await handle.stat()).size;
      let position = sizeBefore;
      // Chunks are copied into ~1 MiB write buffers, and the next one fills while the previous one is written: one
      // disk write per 64 KiB socket chunk left the event loop waiting on the disk most of the time. The buffers are
      // reused (writeBuffers) and the socket's chunks are dropped as soon as they are copied, so they die young:
      // holding them until their write was done promoted them, and V8 ran a full mark-compact every few MiB pushed
      // to free their memory (48 instead of 9 over five 256 MiB pushes, 0.3 s of CPU).
      let fill = writeBuffers.take();
      let filled = 0;
      let writing: Promise<number> = Promise.resolve(0);
      const flush = async () => {
        await writing;
        const full = fill;
        writing = writeFully(handle, full.subarray(0, filled), position).finally(() => writeBuffers.give(full));
        position += filled;
        fill = writeBuffers.take();
        filled = 0;
      };
      try {
        // Writes go through a handle we own (rather than a WriteStream) and are awaited before any truncate,
        // so no late write can undo the rollback below.
        for await (const bytes of chunksOf(source)) {
          for (let offset = 0; offset < bytes.length; ) {
            const copied = bytes.copy(fill, filled, offset);
            filled += copied;
            offset += copied;
            if (filled === fill.length) await flush();
          }
        }
        if (filled > 0) await flush();
        await writing;
        writeBuffers.give(fill);
      } catch (error) {
        await writing.catch(() => undefined);
        await handle.truncate(sizeBefore);
        throw error;
      }
      return position;
    } finally {
      await handle.close();
    }
  }

  async readUpload(id: string): Promise<Readable> {
    const handle = await this.openUpload(id, "r");
    return handle.createReadStream();
  }

  async commitUpload(id: string, digest: string): Promise<void> {
    const uploadPath = this.uploadPath(id);
    const blobPath = this.blobPath(digest);
    if ((await this.uploadSize(id)) === null) throw new UploadNotFoundError(id);
    if (await exists(blobPath)) {
      // Content-addressed: the existing blob has these very bytes already.
      await rm(uploadPath, { force: true });
      return;
    }
    // Data must be on disk before the name points at it, or a crash could expose a blob with missing bytes.
    const handle = await this.openUpload(id, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const blobDir = dirname(blobPath);
    const firstCreatedDir = await mkdir(blobDir, { recursive: true });
    try {
      // rename(2) replaces atomically, so a concurrent commit of the same digest just swaps identical bytes.
      await rename(uploadPath, blobPath);
    } catch (error) {
      if (isNotFound(error)) throw new UploadNotFoundError(id);
      throw error;
    }
    // The uploads/ entry is not synced: if its removal is lost in a crash, the stale-upload sweep deletes it.
    await syncDirectoryChain(blobDir, firstCreatedDir);
  }

  async abortUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }

  async *listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    for await (const entry of directoryEntries(this.uploadsDir)) {
      if (!entry.isFile() || !UPLOAD_ID_PATTERN.test(entry.name)) continue;
      try {
        const info = await stat(join(this.uploadsDir, entry.name));
        yield { id: entry.name, modified: info.mtime };
      } catch (error) {
        // Committed or aborted between listing and stat: it is no longer an upload.
        if (!isNotFound(error)) throw error;
      }
    }
  }

  async ping(): Promise<void> {
    await mkdir(this.rootDir, { recursive: true });
    // Outside uploads/ and blobs/, so a probe left behind by a crash is never mistaken for either.
    const probe = join(this.rootDir, `.ping-${randomBytes(8).toString("hex")}`);
    await writeFile(probe, "ok");
    await rm(probe, { force: true });
  }

  private blobPath(digest: string): string {
    const parsed = parseDigest(digest);
    if (!parsed) throw new InvalidStorageKeyError("digest", digest);
    return join(this.blobsDir, parsed.algorithm, parsed.hex.slice(0, 2), parsed.hex);
  }

  private uploadPath(id: string): string {
    if (!UPLOAD_ID_PATTERN.test(id)) throw new InvalidStorageKeyError("upload id", id);
    return join(this.uploadsDir, id);
  }

  private async openUpload(id: string, flags: "r" | "r+"): Promise<FileHandle> {
    const path = this.uploadPath(id);
    try {
      return await open(path, flags);
    } catch (error) {
      if (isNotFound(error)) throw new UploadNotFoundError(id);
      throw error;
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function assertValidRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/** Entries of a directory, streamed; a directory that does not exist has none. */
async function* directoryEntries(dir: string): AsyncIterable<Dirent> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  yield* handle;
}

const WRITE_BATCH_BYTES = 1024 * 1024;
/** Spare write buffers kept between uploads (at most 8 MiB held idle); two per upload in progress. */
const SPARE_WRITE_BUFFERS = 8;

/** A process-wide free list of WRITE_BATCH_BYTES buffers for upload writes. */
const writeBuffers = {
  spare: [] as Buffer[],
  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES);
  },
  give(buffer: Buffer): void {
    if (this.spare.length < SPARE_WRITE_BUFFERS && !this.spare.includes(buffer)) this.spare.push(buffer);
  },
};

const READ_CHUNK_BYTES = 2 * 1024 * 1024;

/** Writes all of `bytes` at `position` (a single write may be short) and returns how many were written. */
async function writeFully(handle: FileHandle, bytes: Buffer, position: number): Promise<number> {
  let total = 0;
  while (total < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, total, bytes.length - total, position + total);
    if (bytesWritten === 0) throw new Error("the disk took no bytes of a write");
    total += bytesWritten;
  }
  return total;
}

/**
 * Fsyncs `dir` so the entry just renamed into it is durable, and, when mkdir had to create directories on the
 * way (`firstCreated` is the outermost new one), each parent whose entry list gained one of them.
 */
async function syncDirectoryChain(dir: string, firstCreated: string | undefined): Promise<void> {
  const stopAt = firstCreated === undefined ? dir : dirname(firstCreated);
  for (let current = dir; ; current = dirname(current)) {
    await syncDirectory(current);
    if (current === stopAt || current === dirname(current)) return;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
