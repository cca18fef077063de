import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { BlobStore, ByteRange } from "./blob-store";
import { InvalidStorageKeyError, UploadNotFoundError } from "./filesystem";

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

// The SDK warns on every start that later releases will need Node 22; the pinned version works on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const UPLOAD_ID = /^[A-Za-z0-9_.-]{1,128}$/;
// A part of an S3 multipart upload (S3's minimum is 5 MiB): memory per streaming write is about PART_SIZE × QUEUE.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE = 2;
// CopyObject copies up to 5 GB in one request; bigger uploads are re-streamed.
const COPY_LIMIT = 5 * 1024 ** 3;

/** Passes only bytes start..end (inclusive) of what flows through. */
function sliceOf(range: ByteRange): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(range.start - offset, 0);
      const to = Math.min(range.end + 1 - offset, chunk.length);
      offset += chunk.length;
      done(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const status = (error as S3ServiceException).$metadata?.httpStatusCode;
  return name === "NotFound" || name === "NoSuchKey" || status === 404;
}

/**
 * Blobs in an S3-compatible bucket (MinIO, s3rver, AWS), path-style:
 * - `blobs/<alg>/<hex>`: committed blobs, written only after the caller verified the digest, and atomically (a
 *   single PUT or a copy: an object is never visible half-written);
 * - `uploads/<id>/started` and `uploads/<id>/part-<n>`: an upload session, one object per append, so an append
 *   that fails leaves no trace (a stream PUT that errors stores nothing) and the session can go on from its size.
 * Streams are piped through bounded multipart uploads; nothing is buffered whole.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey },
      // The SDK's default aws-chunked stream encoding is stored verbatim by some S3 servers (s3rver): corrupt blobs.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest) }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      const body = object.Body as Readable;
      if (!range) return body;
      // Some S3 servers answer a one-byte range (bytes=0-0) with more than was asked (s3rver): cut it here then.
      const served = /^bytes (\d+)-(\d+)\//.exec(object.ContentRange ?? "");
      const first = served ? Number(served[1]) : 0;
      const last = served ? Number(served[2]) : Number.MAX_SAFE_INTEGER;
      return first === range.start && last === range.end ? body : body.pipe(sliceOf({ start: range.start - first, end: range.end - first }));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(digest: string): Promise<boolean> {
    if ((await this.stat(digest)) === null) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest) }));
    return true;
  }

  async *list(): AsyncIterable<string> {
    for await (const object of this.objects("blobs/")) {
      const [, algorithm, hex] = object.key.split("/");
      const digest = `${algorithm}:${hex}`;
      if (DIGEST.test(digest)) yield digest;
    }
  }

  async startUpload(id: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: `${this.uploadPrefix(id)}started`, Body: Buffer.alloc(0) }));
  }

  async uploadSize(id: string): Promise<number | null> {
    const parts = await this.uploadObjects(id);
    return parts === null ? null : parts.reduce((total, part) => total + part.size, 0);
  }

  async appendUpload(id: string, source: Readable): Promise<number> {
    const parts = await this.uploadObjects(id);
    if (parts === null) {
      source.resume();
      throw new UploadNotFoundError(id);
    }
    const key = `${this.uploadPrefix(id)}part-${String(parts.length + 1).padStart(6, "0")}`;
    const written = await this.putStream(key, source);
    return parts.reduce((total, part) => total + part.size, 0) + written;
  }

  async readUpload(id: string): Promise<Readable> {
    const parts = await this.uploadObjects(id);
    if (parts === null) throw new UploadNotFoundError(id);
    return this.concatenated(parts);
  }

  /** The session's part objects read one after another as one stream. */
  private concatenated(parts: { key: string }[]): Readable {
    const bucket = this.settings.bucket;
    const client = this.client;
    return Readable.from(
      (async function* () {
        for (const part of parts) {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: part.key }));
          yield* object.Body as Readable;
        }
      })(),
    );
  }

  async commitUpload(id: string, digest: string): Promise<void> {
    const key = this.blobKey(digest);
    const parts = await this.uploadObjects(id);
    if (parts === null) throw new UploadNotFoundError(id);
    if ((await this.stat(digest)) === null) {
      const size = parts.reduce((total, part) => total + part.size, 0);
      if (parts.length === 1 && size <= COPY_LIMIT) {
        // The usual case (one PUT or one PATCH): the store copies it; no byte passes through this process.
        await this.client.send(new CopyObjectCommand({ Bucket: this.settings.bucket, Key: key, CopySource: `${this.settings.bucket}/${parts[0].key}` }));
      } else if (size === 0) {
        await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: Buffer.alloc(0) }));
      } else {
        await this.putStream(key, this.concatenated(parts));
      }
    }
    await this.abortUpload(id);
  }

  async abortUpload(id: string): Promise<void> {
    for await (const object of this.objects(this.uploadPrefix(id))) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: object.key }));
    }
  }

  async *listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    const sessions = new Map<string, Date>();
    for await (const object of this.objects("uploads/")) {
      const id = object.key.split("/")[1];
      const seen = sessions.get(id);
      if (!seen || object.modified > seen) sessions.set(id, object.modified);
    }
    for (const [id, modified] of sessions) yield { id, modified };
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
  }

  /**
   * Aborts multipart uploads the store still holds from writes that never finished (a killed process), older than
   * `olderThanMs`; returns how many. Stores without ListMultipartUploads (s3rver answers 501) have none to find.
   */
  async abortStaleMultipartUploads(olderThanMs: number): Promise<number> {
    let aborted = 0;
    try {
      const listing = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.settings.bucket }));
      for (const upload of listing.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated || Date.now() - upload.Initiated.getTime() < olderThanMs) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: upload.Key, UploadId: upload.UploadId }));
        aborted += 1;
      }
    } catch (error) {
      if ((error as S3ServiceException).$metadata?.httpStatusCode === 501) return 0;
      throw error;
    }
    return aborted;
  }

  /** Streams `source` into `key` through a bounded multipart upload; resolves with the bytes written. */
  private async putStream(key: string, source: Readable): Promise<number> {
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const upload = new Upload({ client: this.client, params: { Bucket: this.settings.bucket, Key: key, Body: counted }, partSize: PART_SIZE, queueSize: QUEUE, leavePartsOnError: false });
    // A source that fails or ends early fails the pipeline; the upload is then aborted and nothing is stored.
    const feeding = pipeline(source, counted);
    try {
      await Promise.all([feeding, upload.done()]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      counted.destroy();
      throw error;
    }
    return bytes;
  }

  /** The session's part objects in order, or null when the session does not exist. */
  private async uploadObjects(id: string): Promise<{ key: string; size: number }[] | null> {
    const prefix = this.uploadPrefix(id);
    let started = false;
    const parts: { key: string; size: number }[] = [];
    for await (const object of this.objects(prefix)) {
      if (object.key === `${prefix}started`) started = true;
      else if (object.key.startsWith(`${prefix}part-`)) parts.push({ key: object.key, size: object.size });
    }
    return started ? parts.sort((a, b) => a.key.localeCompare(b.key)) : null;
  }

  private async *objects(prefix: string): AsyncIterable<{ key: string; size: number; modified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private blobKey(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidStorageKeyError("digest", digest);
    const [algorithm, hex] = digest.split(":");
    return `blobs/${algorithm}/${hex}`;
  }

  private uploadPrefix(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new InvalidStorageKeyError("upload id", id);
    return `uploads/${id}/`;
  }
}
