import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "../../registry/distribution/digest";
import { FilesystemBlobStore, InvalidStorageKeyError, UploadNotFoundError } from "../../registry/storage/filesystem";
import { collect, describeBlobStore, readAll, streamOf } from "./blob-store-suite";

async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "berth-fs-store-"));
}

describeBlobStore("FilesystemBlobStore", async () => {
  const dir = await makeTempDir();
  return {
    store: new FilesystemBlobStore(join(dir, "blobs")),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe("FilesystemBlobStore on disk", () => {
  let dir: string;
  let root: string;
  let store: FilesystemBlobStore;

  beforeEach(async () => {
    dir = await makeTempDir();
    root = join(dir, "root");
    store = new FilesystemBlobStore(root);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("refuses keys that could leave the root", () => {
    const badDigests = [
      "sha256:../../../etc/passwd",
      "../" + "a".repeat(64),
      `sha256:${"a".repeat(63)}/`,
      `sha256:${"A".repeat(64)}`,
      `md5:${"a".repeat(32)}`,
      `sha512:${"a".repeat(64)}`,
      "",
    ];
    const badIds = ["..", "../escape", "a/b", "a\\b", "", "x".repeat(129), "id with space", "%2e%2e"];
    const goodDigest = digestOf("anything");

    it.each(badDigests)("digest %j", async (digest) => {
      await store.startUpload("u");
      for (const attempt of [
        () => store.stat(digest),
        () => store.read(digest),
        () => store.delete(digest),
        () => store.commitUpload("u", digest),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(InvalidStorageKeyError);
      }
      expect(await store.uploadSize("u")).toBe(0);
    });

    it.each(badIds)("upload id %j", async (id) => {
      for (const attempt of [
        () => store.startUpload(id),
        () => store.uploadSize(id),
        () => store.appendUpload(id, streamOf("x")),
        () => store.readUpload(id),
        () => store.commitUpload(id, goodDigest),
        () => store.abortUpload(id),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(InvalidStorageKeyError);
      }
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it("throws UploadNotFoundError for operations on an upload that does not exist", async () => {
    await expect(store.appendUpload("ghost", streamOf("x"))).rejects.toBeInstanceOf(UploadNotFoundError);
    await expect(store.readUpload("ghost")).rejects.toBeInstanceOf(UploadNotFoundError);
    await expect(store.commitUpload("ghost", digestOf("x"))).rejects.toBeInstanceOf(UploadNotFoundError);
  });

  it("lays blobs out by algorithm and digest prefix and leaves nothing in uploads/ after a commit", async () => {
    const digest = digestOf("laid out");
    const hex = digest.slice("sha256:".length);
    await store.startUpload("u");
    await store.appendUpload("u", streamOf("laid out"));
    await store.commitUpload("u", digest);

    expect(await readdir(join(root, "uploads"))).toEqual([]);
    expect(await readdir(join(root, "blobs", "sha256", hex.slice(0, 2)))).toEqual([hex]);
  });

  it("does not show an upload left behind by a killed process as a blob", async () => {
    const content = "half a layer";
    await mkdir(join(root, "uploads"), { recursive: true });
    await writeFile(join(root, "uploads", "crashed"), content);

    const afterCrash = new FilesystemBlobStore(root);
    expect(await afterCrash.stat(digestOf(content))).toBeNull();
    expect(await collect(afterCrash.list())).toEqual([]);
    expect((await collect(afterCrash.listUploads())).map((upload) => upload.id)).toEqual(["crashed"]);
  });

  it("ignores files under blobs/ that are not a blob at its proper path", async () => {
    const digest = digestOf("real");
    const hex = digest.slice("sha256:".length);
    await store.startUpload("u");
    await store.appendUpload("u", streamOf("real"));
    await store.commitUpload("u", digest);
    await writeFile(join(root, "blobs", "sha256", hex.slice(0, 2), `${hex}.tmp`), "junk");
    await mkdir(join(root, "blobs", "sha256", "zz"), { recursive: true });
    await writeFile(join(root, "blobs", "sha256", "zz", hex), "misplaced");

    expect(await collect(store.list())).toEqual([digest]);
  });

  it("lets a new instance over the same root see committed blobs and open uploads", async () => {
    const digest = digestOf("survives");
    await store.startUpload("done");
    await store.appendUpload("done", streamOf("survives"));
    await store.commitUpload("done", digest);
    await store.startUpload("open");
    await store.appendUpload("open", streamOf("to be "));

    const restarted = new FilesystemBlobStore(root);
    expect(await collect(restarted.list())).toEqual([digest]);
    expect((await readAll((await restarted.read(digest))!)).toString()).toBe("survives");
    expect(await restarted.uploadSize("open")).toBe(6);

    await restarted.appendUpload("open", streamOf("continued"));
    const continued = digestOf("to be continued");
    await restarted.commitUpload("open", continued);
    expect((await readAll((await restarted.read(continued))!)).toString()).toBe("to be continued");
  });

  it("works on a root that does not exist yet", async () => {
    expect(await collect(store.list())).toEqual([]);
    expect(await collect(store.listUploads())).toEqual([]);
    await store.ping();
    expect(await readdir(root)).toEqual([]);
  });

  it("refuses a malformed byte range", async () => {
    const digest = digestOf("ranged");
    await store.startUpload("u");
    await store.appendUpload("u", streamOf("ranged"));
    await store.commitUpload("u", digest);
    await expect(store.read(digest, { start: 4, end: 2 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.read(digest, { start: -1, end: 2 })).rejects.toBeInstanceOf(RangeError);
  });

  it("reads a small blob whole into one buffer of its size, not a read chunk's", async () => {
    const content = randomBytes(100 * 1024);
    const digest = digestOf(content);
    await store.startUpload("small");
    await store.appendUpload("small", streamOf(content));
    await store.commitUpload("small", digest);
    const chunks = await collect((await store.read(digest))!);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    expect(chunks).toHaveLength(1);
    // The memory behind it: a buffer sized to the blob (a 2 MiB read chunk for each 100 KiB layer adds up in a pull).
    expect(chunks[0].buffer.byteLength).toBe(content.length);
  });

  describe("big blobs, written in batches and read in large chunks", () => {
    const MiB = 1024 * 1024;
    let content: Buffer;
    let digest: string;

    beforeEach(async () => {
      // Many small socket-sized chunks in, gathered into batched writes; read back in 1 MiB reads.
      content = randomBytes(5 * MiB + 12_345);
      digest = digestOf(content);
      await store.startUpload("big");
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < content.length; offset += 65_536 - 7) chunks.push(content.subarray(offset, offset + 65_536 - 7));
      expect(await store.appendUpload("big", streamOf(...chunks))).toBe(content.length);
      await store.commitUpload("big", digest);
    });

    it("serves the whole blob and ranges inside, across and at the ends of read chunks", async () => {
      expect((await readAll((await store.read(digest))!)).equals(content)).toBe(true);
      const ranges = [
        [0, 0],
        [0, MiB - 1],
        [MiB - 1, MiB],
        [MiB - 3, 3 * MiB + 5],
        [2 * MiB, 2 * MiB],
        [5 * MiB, content.length - 1],
        [content.length - 1, content.length - 1],
      ];
      for (const [start, end] of ranges) {
        const got = await readAll((await store.read(digest, { start, end }))!);
        expect(got.equals(content.subarray(start, end + 1))).toBe(true);
      }
    });

    it("keeps uploads that run at once apart, though their write buffers are reused", async () => {
      const contents = [0, 1, 2, 3].map((i) => randomBytes(3 * MiB + 1000 * i + 7));
      await Promise.all(contents.map((_, i) => store.startUpload(`at-once-${i}`)));
      const pieces = (bytes: Buffer) => Array.from({ length: Math.ceil(bytes.length / 50_000) }, (_, k) => bytes.subarray(k * 50_000, (k + 1) * 50_000));
      const sizes = await Promise.all(contents.map((bytes, i) => store.appendUpload(`at-once-${i}`, streamOf(...pieces(bytes)))));
      expect(sizes).toEqual(contents.map((bytes) => bytes.length));
      for (const [i, bytes] of contents.entries()) expect((await readAll(await store.readUpload(`at-once-${i}`))).equals(bytes)).toBe(true);
    });

    it("stores thousands of tiny chunks (more than a write buffer holds) in order", async () => {
      const tiny = randomBytes(5000 * 7);
      await store.startUpload("tiny");
      const chunks = Array.from({ length: 5000 }, (_, i) => tiny.subarray(i * 7, i * 7 + 7));
      expect(await store.appendUpload("tiny", streamOf(...chunks))).toBe(tiny.length);
      expect((await readAll(await store.readUpload("tiny"))).equals(tiny)).toBe(true);
    });

    it("closes the file when a reader stops early", async () => {
      const openFiles = async () => (await readdir("/proc/self/fd")).length;
      const before = await openFiles();
      for (let i = 0; i < 20; i++) {
        const stream = (await store.read(digest))!;
        await new Promise<void>((resolve) => stream.once("data", () => resolve()));
        stream.destroy();
        await new Promise((resolve) => stream.once("close", resolve));
      }
      expect(await openFiles()).toBeLessThanOrEqual(before);
    });
  });
});
