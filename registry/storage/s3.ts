import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { BlobStore, ByteRange } from "./blob-store";
import { chunksOf } from "./chunks";
import { InvalidStorageKeyError, UploadNotFoundError } from "./filesystem";

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** Bytes per multipart part an upload is cut into (BERTH_S3_PART_SIZE_MIB); DEFAULT_PART_SIZE when absent. */
  partSize?: number;
  /** How long a blob GET's presigned URL is valid (BERTH_S3_REDIRECT_SECONDS); 0 or absent: no redirects. */
  redirectSeconds?: number;
  /** The S3 endpoint as clients reach it, for presigned URLs (BERTH_S3_REDIRECT_ENDPOINT); absent: `endpoint`. */
  redirectEndpoint?: string;
}

// The SDK warns on every start that later releases will need Node 22; the pinned version works on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const MiB = 1024 * 1024;
/** S3's smallest part: every part of a multipart upload but the last must have at least this many bytes. */
export const MIN_PART_SIZE = 5 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;
/** S3's largest part, and its most parts per upload. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const UPLOAD_ID = /^[A-Za-z0-9_.-]{1,128}$/;
// CopyObject copies up to 5 GB in one request; bigger blobs are re-streamed (lib-storage, PART_SIZE × QUEUE in memory).
const COPY_LIMIT = 5 * 1024 ** 3;
const QUEUE = 2;
// Objects removed at once when a session is dropped.
const DELETE_BATCH = 32;

/** Thrown when bytes are appended to an upload that already holds its last part (or was assembled for its commit). */
export class UploadSealedError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} already holds its last bytes: it can only be committed or aborted`);
    this.name = "UploadSealedError";
  }
}

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

const encode = (text: string) => Buffer.from(text).toString("base64url");
const decode = (text: string) => Buffer.from(text, "base64url").toString();

interface Part {
  number: number;
  size: number;
  etag: string;
}

interface Tail {
  offset: number;
  size: number;
  key: string;
}

/** An upload session as its objects under `uploads/<id>/` describe it. */
interface Session {
  prefix: string;
  /** Parts 1..n of the multipart upload, in order, as their markers record them. */
  parts: Part[];
  /** Bytes after the parts that did not fill a part yet, one small object per append, in order. */
  tails: Tail[];
  multipart: { key: string; uploadId: string } | null;
  /** The session's bytes as one object, once readUpload assembled them. */
  assembled: { key: string; size: number } | null;
  size: number;
}

/**
 * Blobs in an S3-compatible bucket (MinIO, s3rver, AWS), path-style:
 * - `blobs/<alg>/<hex>`: committed blobs, written only after the caller verified the digest, and atomically (a
 *   completed multipart upload, a single PUT or a copy: an object is never visible half-written);
 * - `uploads/<id>/…`: an upload session. Its bytes go once, as they arrive, into one S3 multipart upload, whose id
 *   and parts (number, size, ETag) are recorded in the keys of empty marker objects, so any node can go on with the
 *   session from a listing of its prefix. Parts are cut at `partSize`; what an append leaves that is too small for
 *   a part (S3 wants ≥ 5 MiB for all but the last) is kept as a small `tail/<offset>` object and folded into the
 *   next part (read back and sent again: at most 5 MiB per such append) or, at the commit, into the last part.
 * Memory per append in progress: the bytes not yet cut (< partSize + 5 MiB) and the part being sent (partSize).
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly partSize: number;
  /** Signs redirect URLs for the endpoint clients reach (the signature covers the host). */
  private readonly presigner: S3Client | null;

  constructor(private readonly settings: S3Settings) {
    this.partSize = settings.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < MIN_PART_SIZE || this.partSize > MAX_PART_SIZE) {
      throw new RangeError(`S3 part size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes, got ${this.partSize}`);
    }
    const clientFor = (endpoint: string) =>
      new S3Client({
        endpoint,
        region: settings.region,
        forcePathStyle: true,
        credentials: { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey },
        // The SDK's default aws-chunked stream encoding is stored verbatim by some S3 servers (s3rver): corrupt blobs.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
    this.client = clientFor(settings.endpoint);
    const redirectEndpoint = settings.redirectEndpoint ?? settings.endpoint;
    this.presigner = !settings.redirectSeconds ? null : redirectEndpoint === settings.endpoint ? this.client : clientFor(redirectEndpoint);
  }

  /** A presigned GET of the blob, valid for BERTH_S3_REDIRECT_SECONDS; null when redirects are off. */
  async redirectUrl(digest: string): Promise<string | null> {
    if (this.presigner === null) return null;
    const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
    const command = new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.blobKey(digest) });
    return getSignedUrl(this.presigner, command, { expiresIn: this.settings.redirectSeconds });
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
    await this.putEmpty(`${this.uploadPrefix(id)}started`);
  }

  async uploadSize(id: string): Promise<number | null> {
    return (await this.session(id))?.size ?? null;
  }

  async appendUpload(id: string, source: Readable, last?: string): Promise<number> {
    const session = await this.session(id);
    if (session === null || sealed(session)) {
      source.resume();
      throw session === null ? new UploadNotFoundError(id) : new UploadSealedError(id);
    }
    // The caller's last bytes of a session that had none yet: the multipart upload can be created at the blob's own
    // key, so the commit completes it there (after the caller verified the digest) and nothing is copied.
    const target = last !== undefined && session.size === 0 && session.multipart === null ? this.blobKey(last) : `${session.prefix}data`;
    const writer = new SessionWriter(this.client, this.settings.bucket, session, this.partSize, target, last !== undefined);
    try {
      for await (const chunk of chunksOf(source)) await writer.add(chunk);
      await writer.end();
    } catch (error) {
      await writer.rollBack();
      throw error;
    }
    await writer.dropFoldedTails();
    return writer.size;
  }

  /**
   * The session's bytes, for a hash when the caller has no running one. Parts of a multipart upload cannot be read
   * until it is completed, so a session with parts is assembled first (completed onto `uploads/<id>/data`); after
   * that it takes no more bytes, and its commit copies that object.
   */
  async readUpload(id: string): Promise<Readable> {
    const session = await this.session(id);
    if (session === null) throw new UploadNotFoundError(id);
    if (session.multipart !== null && session.parts.length > 0) {
      if (session.multipart.key !== `${session.prefix}data`) throw new UploadSealedError(id);
      await this.complete(session);
      session.assembled = { key: session.multipart.key, size: session.size };
    }
    if (session.assembled) return (await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: session.assembled.key }))).Body as Readable;
    return this.concatenated(session.tails);
  }

  /** Objects read one after another as one stream. */
  private concatenated(objects: { key: string }[]): Readable {
    const bucket = this.settings.bucket;
    const client = this.client;
    return Readable.from(
      (async function* () {
        for (const object of objects) {
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
          yield* got.Body as Readable;
        }
      })(),
    );
  }

  async commitUpload(id: string, digest: string): Promise<void> {
    const key = this.blobKey(digest);
    const session = await this.session(id);
    if (session === null) throw new UploadNotFoundError(id);
    const multipart = session.multipart;
    if (multipart !== null && multipart.key !== key && multipart.key !== `${session.prefix}data`) {
      // Landed for another digest than the one verified: never complete it there.
      throw new Error(`upload ${id} was written for another blob than ${digest}`);
    }
    let completed = false;
    if ((await this.stat(digest)) === null) {
      if (session.assembled) {
        await this.copy(session.assembled.key, key, session.assembled.size);
      } else if (multipart !== null && session.parts.length > 0) {
        await this.complete(session);
        completed = true;
        // Completed where it belongs when the digest was known as the bytes came; else one server-side copy.
        if (multipart.key !== key) await this.copy(multipart.key, key, session.size);
      } else if (session.tails.length === 1) {
        await this.copy(session.tails[0].key, key, session.size);
      } else {
        // A few small appends (< 5 MiB together) or nothing at all.
        const body = await this.readTails(session.tails);
        await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: body, ContentLength: body.length }));
      }
    }
    await this.dropSession(session.prefix, completed ? null : multipart);
  }

  async abortUpload(id: string): Promise<void> {
    const prefix = this.uploadPrefix(id);
    const markers: { key: string; uploadId: string }[] = [];
    for await (const object of this.objects(`${prefix}multipart/`)) {
      const marker = this.multipartOf(prefix, object.key);
      if (marker) markers.push(marker);
    }
    for (const marker of markers) await this.abortMultipart(marker);
    await this.dropSession(prefix, null);
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

  /** Completes the session's multipart upload onto its key, first adding its tail objects as the last part. */
  private async complete(session: Session): Promise<void> {
    const multipart = session.multipart!;
    if (session.tails.length > 0) {
      const body = await this.readTails(session.tails);
      const number = session.parts.length + 1;
      const etag = await uploadPart(this.client, this.settings.bucket, multipart, number, body);
      session.parts.push({ number, size: body.length, etag });
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.settings.bucket,
        Key: multipart.key,
        UploadId: multipart.uploadId,
        MultipartUpload: { Parts: session.parts.map((part) => ({ PartNumber: part.number, ETag: part.etag })) },
      }),
    );
  }

  private async readTails(tails: Tail[]): Promise<Buffer> {
    return Buffer.concat(await readTails(this.client, this.settings.bucket, tails));
  }

  /** A server-side copy (no byte passes through this process), or a re-streamed one past CopyObject's 5 GB. */
  private async copy(from: string, to: string, size: number): Promise<void> {
    if (size <= COPY_LIMIT) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.settings.bucket, Key: to, CopySource: `${this.settings.bucket}/${from}` }));
      return;
    }
    const source = (await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: from }))).Body as Readable;
    await this.putStream(to, source);
  }

  private async abortMultipart(multipart: { key: string; uploadId: string }): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: multipart.key, UploadId: multipart.uploadId }));
    } catch (error) {
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      // Gone already (NoSuchUpload), or a store that cannot abort (s3rver answers 405): nothing more to do here.
      if (status !== 404 && status !== 405 && status !== 501) throw error;
    }
  }

  /** Aborts `multipart` when given, then removes every object of the session. */
  private async dropSession(prefix: string, multipart: { key: string; uploadId: string } | null): Promise<void> {
    if (multipart) await this.abortMultipart(multipart);
    const keys: string[] = [];
    for await (const object of this.objects(prefix)) keys.push(object.key);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      await Promise.all(keys.slice(i, i + DELETE_BATCH).map((key) => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }))));
    }
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
    const upload = new Upload({ client: this.client, params: { Bucket: this.settings.bucket, Key: key, Body: counted }, partSize: this.partSize, queueSize: QUEUE, leavePartsOnError: false });
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

  private async putEmpty(key: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: Buffer.alloc(0) }));
  }

  private multipartOf(prefix: string, key: string): { key: string; uploadId: string } | null {
    const match = /^multipart\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(key.slice(prefix.length));
    if (!match) return null;
    return { key: match[1] === "data" ? `${prefix}data` : this.blobKey(match[1]), uploadId: decode(match[2]) };
  }

  /** The session read from one listing of its prefix, or null when it was never started (or is gone). */
  private async session(id: string): Promise<Session | null> {
    const prefix = this.uploadPrefix(id);
    let started = false;
    let multipart: Session["multipart"] = null;
    let assembled: Session["assembled"] = null;
    const parts = new Map<number, Part>();
    const tails: Tail[] = [];
    for await (const object of this.objects(prefix)) {
      const name = object.key.slice(prefix.length);
      const part = /^part\/(\d{5})~(\d+)~([A-Za-z0-9_-]+)$/.exec(name);
      const tail = /^tail\/(\d{15})$/.exec(name);
      if (name === "started") started = true;
      else if (name === "data") assembled = { key: object.key, size: object.size };
      else if (name.startsWith("multipart/")) multipart = this.multipartOf(prefix, object.key) ?? multipart;
      else if (part) parts.set(Number(part[1]), { number: Number(part[1]), size: Number(part[2]), etag: decode(part[3]) });
      else if (tail) tails.push({ offset: Number(tail[1]), size: object.size, key: object.key });
    }
    if (!started) return null;
    // Parts count from 1 without a gap; tails continue where they end (older tails were folded into a part).
    const ordered: Part[] = [];
    let end = 0;
    // (Part markers without a multipart marker are from an append killed before its first marker landed.)
    for (let number = 1; multipart !== null && parts.has(number); number++) {
      ordered.push(parts.get(number)!);
      end += parts.get(number)!.size;
    }
    const chain: Tail[] = [];
    for (const tail of tails.sort((a, b) => a.offset - b.offset)) {
      if (tail.offset !== end) continue;
      chain.push(tail);
      end += tail.size;
    }
    return { prefix, parts: ordered, tails: chain, multipart, assembled, size: assembled?.size ?? end };
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

/** The bytes of tail objects, in order: < 5 MiB together (an append that brings them to 5 MiB folds them into a part). */
async function readTails(client: S3Client, bucket: string, tails: Tail[]): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for (const tail of tails) {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: tail.key }));
    for await (const chunk of object.Body as Readable) chunks.push(chunk as Buffer);
  }
  return chunks;
}

/** A session whose last bytes are in (a last part, a multipart upload at a blob's key, or assembled) takes no more. */
function sealed(session: Session): boolean {
  const lastPart = session.parts.at(-1);
  return (
    session.assembled !== null ||
    (session.multipart !== null && session.multipart.key !== `${session.prefix}data`) ||
    (lastPart !== undefined && lastPart.size < MIN_PART_SIZE)
  );
}

async function uploadPart(client: S3Client, bucket: string, multipart: { key: string; uploadId: string }, number: number, body: Buffer): Promise<string> {
  if (number > MAX_PARTS) throw new Error(`an upload takes at most ${MAX_PARTS} parts: raise BERTH_S3_PART_SIZE_MIB for blobs this big`);
  const { ETag } = await client.send(
    new UploadPartCommand({ Bucket: bucket, Key: multipart.key, UploadId: multipart.uploadId, PartNumber: number, Body: body, ContentLength: body.length }),
  );
  if (!ETag) throw new Error(`the object store answered part ${number} without an ETag`);
  return ETag;
}

/**
 * One append: cuts the bytes into parts of `partSize` as they arrive, keeping at least 5 MiB back until the source
 * ends, so the append's last part is never below S3's minimum; one part is sent while the next fills. Records what
 * it writes, so a failed append can be undone and the session stays at its previous size.
 */
class SessionWriter {
  size: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private folded: boolean;
  private readonly tailBytes: number;
  private inFlight: Promise<void> = Promise.resolve();
  // Marker PUTs (no body) go while the next part is sent; the append waits for all of them before it answers.
  private readonly markers: Promise<unknown>[] = [];
  private readonly written: string[] = [];
  private createdMultipart: { key: string; uploadId: string } | null = null;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly session: Session,
    private readonly partSize: number,
    private readonly target: string,
    private readonly final: boolean,
  ) {
    this.size = session.size;
    this.folded = session.tails.length === 0;
    this.tailBytes = session.tails.reduce((total, tail) => total + tail.size, 0);
  }

  async add(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.size += chunk.length;
    if (!this.folded && this.tailBytes + this.pendingBytes >= MIN_PART_SIZE) await this.fold();
    while (this.folded && this.pendingBytes >= this.partSize + MIN_PART_SIZE) {
      await this.inFlight; // one part on the wire at a time; the source waits meanwhile (backpressure)
      this.send(this.take(this.partSize));
    }
  }

  /** The source ended: what is left becomes a part (≥ 5 MiB, or any size when these are the upload's last bytes). */
  async end(): Promise<void> {
    await this.inFlight;
    if (this.pendingBytes > 0) await this.endWith();
    await Promise.all(this.markers);
  }

  private async endWith(): Promise<void> {
    if (this.final && !this.folded) await this.fold();
    if (this.final || (this.folded && this.pendingBytes >= MIN_PART_SIZE)) {
      this.send(this.take(this.pendingBytes));
      await this.inFlight;
      return;
    }
    // Too small for a part that is not the last: kept as a tail object, which any node can fold in later.
    const offset = this.size - this.pendingBytes;
    const key = `${this.session.prefix}tail/${String(offset).padStart(15, "0")}`;
    const body = this.take(this.pendingBytes);
    this.written.push(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }));
  }

  /** Undoes this append: its markers and tail go, and a multipart upload it created is aborted. */
  async rollBack(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    await Promise.allSettled(this.markers);
    await Promise.all(this.written.map((key) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined)));
    if (this.createdMultipart) {
      const { key, uploadId } = this.createdMultipart;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    }
  }

  /** After a successful append: tails now inside a part are removed (a listing ignores them if this fails). */
  async dropFoldedTails(): Promise<void> {
    if (this.session.tails.length === 0 || !this.folded) return;
    await Promise.all(this.session.tails.map((tail) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: tail.key })).catch(() => undefined)));
  }

  /** Reads the session's tail objects (< 5 MiB together) back in front of the new bytes. */
  private async fold(): Promise<void> {
    this.pending.unshift(...(await readTails(this.client, this.bucket, this.session.tails)));
    this.pendingBytes += this.tailBytes;
    this.folded = true;
  }

  private take(bytes: number): Buffer {
    const pieces: Buffer[] = [];
    let taken = 0;
    while (taken < bytes) {
      const head = this.pending[0];
      const wanted = bytes - taken;
      if (head.length <= wanted) {
        pieces.push(head);
        this.pending.shift();
        taken += head.length;
      } else {
        pieces.push(head.subarray(0, wanted));
        this.pending[0] = head.subarray(wanted);
        taken += wanted;
      }
    }
    this.pendingBytes -= bytes;
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, bytes);
  }

  private send(body: Buffer): void {
    const number = this.session.parts.length + 1;
    this.session.parts.push({ number, size: body.length, etag: "" });
    this.inFlight = this.sendPart(number, body);
    this.inFlight.catch(() => undefined); // observed by the next await of inFlight
  }

  private async sendPart(number: number, body: Buffer): Promise<void> {
    const multipart = await this.multipart();
    const etag = await uploadPart(this.client, this.bucket, multipart, number, body);
    this.session.parts[number - 1].etag = etag;
    const marker = `${this.session.prefix}part/${String(number).padStart(5, "0")}~${body.length}~${encode(etag)}`;
    this.mark(marker);
  }

  private mark(key: string): void {
    this.written.push(key);
    const put = this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.alloc(0) }));
    put.catch(() => undefined); // observed by end() or rollBack()
    this.markers.push(put);
  }

  /** The session's multipart upload, created (with its marker) on the first part. */
  private async multipart(): Promise<{ key: string; uploadId: string }> {
    if (this.session.multipart) return this.session.multipart;
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.target }));
    if (!created.UploadId) throw new Error("the object store created a multipart upload without an id");
    const multipart = { key: this.target, uploadId: created.UploadId };
    this.createdMultipart = multipart;
    const where = this.target === `${this.session.prefix}data` ? "data" : this.target.slice("blobs/".length).replace("/", ":");
    this.mark(`${this.session.prefix}multipart/${where}/${encode(created.UploadId)}`);
    this.session.multipart = multipart;
    return multipart;
  }
}
