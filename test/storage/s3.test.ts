import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { MIN_PART_SIZE, S3BlobStore } from "../../registry/storage/s3";
import { startCountingS3Proxy, type CountingS3Proxy } from "../support/s3-traffic";
import { startS3, type TestS3 } from "../support/s3";
import { seededBytes, sha256Of } from "../support/seeded-bytes";
import { describeBlobStore } from "./blob-store-suite";

describeBlobStore("S3BlobStore on s3rver", async () => {
  const s3 = await startS3();
  return { store: new S3BlobStore(s3.settings), cleanup: () => s3.close() };
});

const MiB = 1024 * 1024;

/** `bytes` in socket-sized chunks, as a request body arrives. */
function chunked(bytes: Buffer, size = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= bytes.length) return void this.push(null);
      this.push(bytes.subarray(offset, offset + size));
      offset += size;
    },
  });
}

/** Sends `bytes`, then fails like a client that went away. */
function failingAfter(bytes: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
      throw new Error("client went away");
    })(),
  );
}

async function digestOfStream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

describe("S3BlobStore writes each byte of an upload once, into one multipart upload", () => {
  let s3: TestS3;
  let proxy: CountingS3Proxy;
  let store: S3BlobStore;
  let uploadKeys: () => Promise<string[]>;

  beforeAll(async () => {
    s3 = await startS3();
    proxy = await startCountingS3Proxy(s3.settings);
    store = new S3BlobStore(proxy.settings);
    const client = new S3Client({ endpoint: s3.settings.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    uploadKeys = async () => ((await client.send(new ListObjectsV2Command({ Bucket: s3.settings.bucket, Prefix: "uploads/" }))).Contents ?? []).map((object) => object.Key!);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.close();
  });
  beforeEach(() => proxy.reset());
  afterEach(async () => {
    // Nothing of a finished or aborted session stays behind: no object, no open multipart upload.
    expect(await uploadKeys()).toEqual([]);
    expect(await s3.openMultipartUploads()).toEqual([]);
  });

  const validParts = (sizes: number[]) => sizes.slice(0, -1).every((size) => size >= MIN_PART_SIZE) && sizes.every((size) => size > 0);

  it("cuts appends into parts of at least 5 MiB as they arrive, and commits them with one server-side copy", async () => {
    const content = seededBytes("s3/parts", 7 * MiB + 1 + 13 * MiB + 3 + 9 * MiB + 5);
    const digest = sha256Of(content);
    await store.startUpload("parts");
    let offset = 0;
    for (const size of [7 * MiB + 1, 13 * MiB + 3, 9 * MiB + 5]) {
      expect(await store.appendUpload("parts", chunked(content.subarray(offset, offset + size)))).toBe(offset + size);
      offset += size;
    }
    await store.commitUpload("parts", digest);

    expect(proxy.traffic.writtenBytes).toBe(content.length);
    expect(proxy.traffic.copies).toBe(1);
    expect(proxy.traffic.completed).toHaveLength(1);
    expect(proxy.traffic.completed[0].partSizes.reduce((a, b) => a + b, 0)).toBe(content.length);
    expect(validParts(proxy.traffic.completed[0].partSizes)).toBe(true);
    expect(await digestOfStream((await store.read(digest))!)).toBe(digest);
  });

  it("lands bytes appended as the last ones at the blob's own key: no copy", async () => {
    const content = seededBytes("s3/landing", 12 * MiB + 11);
    const digest = sha256Of(content);
    await store.startUpload("landing");
    await store.appendUpload("landing", chunked(content), digest);
    await store.commitUpload("landing", digest);

    expect(proxy.traffic.writtenBytes).toBe(content.length);
    expect(proxy.traffic.copies).toBe(0);
    expect(proxy.traffic.completed.map((upload) => upload.key)).toEqual([`blobs/sha256/${digest.slice(7)}`]);
    expect(await digestOfStream((await store.read(digest))!)).toBe(digest);
  });

  it("keeps appends under 5 MiB as tails that another node folds into the next part", async () => {
    const sizes = [1 * MiB + 7, 2 * MiB + 1, 9 * MiB + 2, 3 * MiB];
    const content = seededBytes("s3/tails", sizes.reduce((a, b) => a + b, 0));
    const digest = sha256Of(content);
    const other = new S3BlobStore(proxy.settings); // a second process on the same bucket
    await store.startUpload("tails");
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      await [store, other][i % 2].appendUpload("tails", chunked(content.subarray(offset, offset + size)));
      offset += size;
      expect(await [other, store][i % 2].uploadSize("tails")).toBe(offset);
    }
    // Without a running hash the committing node reads the bytes back: the upload is assembled for that.
    expect(await digestOfStream(await other.readUpload("tails"))).toBe(digest);
    await other.commitUpload("tails", digest);

    // The two tails before the 9 MiB append went once as objects and once inside the part they were folded into;
    // the last 3 MiB went as a tail and again as the last part.
    expect(proxy.traffic.writtenBytes).toBe(content.length + sizes[0] + sizes[1] + sizes[3]);
    expect(proxy.traffic.completed).toHaveLength(1);
    expect(proxy.traffic.completed[0].partSizes).toEqual([sizes[0] + sizes[1] + sizes[2], sizes[3]]);
    expect(await digestOfStream((await store.read(digest))!)).toBe(digest);
  });

  it("rolls back the parts of an append that fails midway, and the upload goes on from its size", async () => {
    const content = seededBytes("s3/rollback", 20 * MiB);
    const digest = sha256Of(content);
    await store.startUpload("rollback");
    await store.appendUpload("rollback", chunked(content.subarray(0, 6 * MiB)));
    await expect(store.appendUpload("rollback", failingAfter(seededBytes("s3/lost", 18 * MiB)))).rejects.toThrow("client went away");
    expect(await store.uploadSize("rollback")).toBe(6 * MiB);
    await store.appendUpload("rollback", chunked(content.subarray(6 * MiB)));
    await store.commitUpload("rollback", digest);
    expect(validParts(proxy.traffic.completed[0].partSizes)).toBe(true);
    expect(await digestOfStream((await store.read(digest))!)).toBe(digest);
  });

  it("aborts the multipart upload when a session is dropped", async () => {
    await store.startUpload("dropped");
    await store.appendUpload("dropped", chunked(seededBytes("s3/dropped", 14 * MiB)));
    expect(await s3.openMultipartUploads()).toHaveLength(1);
    await store.abortUpload("dropped");
    expect(proxy.traffic.aborted).toHaveLength(1);
    expect(await store.uploadSize("dropped")).toBeNull();
  });

  it("never makes a blob of last bytes that the caller does not commit, and aborts their multipart upload", async () => {
    const content = seededBytes("s3/wrong", 6 * MiB);
    const claimed = sha256Of(seededBytes("s3/claimed", 6 * MiB));
    await store.startUpload("wrong");
    await store.appendUpload("wrong", chunked(content), claimed);
    await expect(store.appendUpload("wrong", chunked(Buffer.from("more")))).rejects.toThrow(/only be committed or aborted/);
    await store.abortUpload("wrong");
    expect(proxy.traffic.aborted).toHaveLength(1);
    expect(await store.stat(claimed)).toBeNull();
    expect(await store.stat(sha256Of(content))).toBeNull();
  });
});
