import { createHash, randomFillSync } from "node:crypto";
import { Readable } from "node:stream";
import { digestOf, HashingStream } from "../../registry/distribution/digest";
import type { BlobStore } from "../../registry/storage/blob-store";

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

/** A byte stream of the given parts, one chunk each. */
export function streamOf(...parts: (string | Buffer)[]): Readable {
  return Readable.from(parts.map((part) => Buffer.from(part)));
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/**
 * Emits `parts` one per read and then fails the way a dropped client connection does: with `error`, or, when
 * `error` is undefined, by being destroyed without one (premature end).
 * `highWaterMark: 0` keeps it from reading ahead, so the store has taken every part before the failure.
 */
function failingStream(parts: string[], error: Error | undefined): Readable {
  let next = 0;
  return new Readable({
    highWaterMark: 0,
    read() {
      if (next < parts.length) this.push(Buffer.from(parts[next++]));
      else setImmediate(() => this.destroy(error));
    },
  });
}

/** `total` random bytes produced chunk by chunk, so a large blob never exists as one Buffer. */
function generatedBytes(total: number, chunkSize = 256 * 1024): Readable {
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, total - produced);
      produced += size;
      this.push(randomFillSync(Buffer.allocUnsafe(size)));
    },
  });
}

async function sha256OfStream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/**
 * The behaviour every BlobStore driver must show, written against the interface alone.
 * `make` is called before every test and must return an empty store; `cleanup` runs after it.
 */
export function describeBlobStore(name: string, make: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Starts an upload, appends `parts` in separate calls and commits it; returns the digest. */
    async function pushBlob(id: string, ...parts: string[]): Promise<string> {
      await store.startUpload(id);
      for (const part of parts) await store.appendUpload(id, streamOf(part));
      const digest = digestOf(parts.join(""));
      await store.commitUpload(id, digest);
      return digest;
    }

    async function readBlob(digest: string, range?: { start: number; end: number }): Promise<string | null> {
      const stream = await store.read(digest, range);
      return stream && (await readAll(stream)).toString();
    }

    it("stores a blob appended in several chunks and serves it whole, by range, in list, until deleted", async () => {
      await store.startUpload("u1");
      expect(await store.uploadSize("u1")).toBe(0);
      expect(await store.appendUpload("u1", streamOf("hello "))).toBe(6);
      expect(await store.appendUpload("u1", streamOf("blob", " ", "world"))).toBe(16);
      expect(await store.appendUpload("u1", streamOf("!"))).toBe(17);
      expect(await store.uploadSize("u1")).toBe(17);

      const digest = digestOf("hello blob world!");
      await store.commitUpload("u1", digest);

      expect(await store.uploadSize("u1")).toBeNull();
      expect(await store.stat(digest)).toEqual({ size: 17 });
      expect(await readBlob(digest)).toBe("hello blob world!");
      expect(await readBlob(digest, { start: 6, end: 9 })).toBe("blob");
      expect(await readBlob(digest, { start: 0, end: 0 })).toBe("h");
      expect(await readBlob(digest, { start: 11, end: 16 })).toBe("world!");
      expect(await collect(store.list())).toEqual([digest]);

      expect(await store.delete(digest)).toBe(true);
      expect(await store.stat(digest)).toBeNull();
      expect(await store.read(digest)).toBeNull();
      expect(await store.delete(digest)).toBe(false);
      expect(await collect(store.list())).toEqual([]);
    });

    it("lists every committed blob", async () => {
      const digests = [await pushBlob("a", "first"), await pushBlob("b", "second"), await pushBlob("c", "third")];
      expect((await collect(store.list())).sort()).toEqual([...digests].sort());
    });

    it("stores an empty blob", async () => {
      const digest = await pushBlob("empty");
      expect(await store.stat(digest)).toEqual({ size: 0 });
      expect(await readBlob(digest)).toBe("");
    });

    it("answers null for a blob that does not exist", async () => {
      const missing = digestOf("never stored");
      expect(await store.stat(missing)).toBeNull();
      expect(await store.read(missing)).toBeNull();
      expect(await store.read(missing, { start: 0, end: 3 })).toBeNull();
    });

    it("accepts a second commit of content that is already stored", async () => {
      const first = await pushBlob("first", "same bytes");
      const second = await pushBlob("second", "same bytes");
      expect(second).toBe(first);
      expect(await store.uploadSize("second")).toBeNull();
      expect(await readBlob(first)).toBe("same bytes");
      expect(await collect(store.list())).toEqual([first]);
    });

    it("commits two uploads of the same digest concurrently and keeps the blob intact", async () => {
      const content = "x".repeat(100_000);
      const digest = digestOf(content);
      for (const id of ["left", "right"]) {
        await store.startUpload(id);
        await store.appendUpload(id, streamOf(content));
      }
      await Promise.all([store.commitUpload("left", digest), store.commitUpload("right", digest)]);

      expect(await store.uploadSize("left")).toBeNull();
      expect(await store.uploadSize("right")).toBeNull();
      expect(await store.stat(digest)).toEqual({ size: content.length });
      expect(await readBlob(digest)).toBe(content);
    });

    it("drops an upload on abort, and aborting an unknown upload is no error", async () => {
      await store.startUpload("doomed");
      await store.appendUpload("doomed", streamOf("bytes"));
      await store.abortUpload("doomed");
      expect(await store.uploadSize("doomed")).toBeNull();
      expect(await collect(store.listUploads())).toEqual([]);
      await expect(store.abortUpload("doomed")).resolves.toBeUndefined();
    });

    it("answers null for the size of an unknown upload and refuses to append to or commit it", async () => {
      expect(await store.uploadSize("nobody")).toBeNull();
      await expect(store.appendUpload("nobody", streamOf("x"))).rejects.toThrow();
      await expect(store.commitUpload("nobody", digestOf("x"))).rejects.toThrow();
      expect(await store.stat(digestOf("x"))).toBeNull();
    });

    it.each([
      ["errors", new Error("client went away")],
      ["ends early", undefined],
    ])("rolls an append back when its source %s, and the upload can be continued", async (_how, failure) => {
      await store.startUpload("flaky");
      await store.appendUpload("flaky", streamOf("kept "));

      const broken = store.appendUpload("flaky", failingStream(["lost ", "bytes "], failure));
      await expect(broken).rejects.toThrow(failure?.message ?? "");
      expect(await store.uploadSize("flaky")).toBe(5);

      expect(await store.appendUpload("flaky", streamOf("and more"))).toBe(13);
      const digest = digestOf("kept and more");
      await store.commitUpload("flaky", digest);
      expect(await readBlob(digest)).toBe("kept and more");
    });

    it("reads back exactly the bytes appended to an upload, which can then be committed", async () => {
      await store.startUpload("empty");
      expect((await readAll(await store.readUpload("empty"))).length).toBe(0);
      await store.startUpload("partial");
      await store.appendUpload("partial", streamOf("abc", "def"));
      await store.appendUpload("partial", streamOf("ghi"));
      expect((await readAll(await store.readUpload("partial"))).toString()).toBe("abcdefghi");
      expect(await store.uploadSize("partial")).toBe(9);
      await store.commitUpload("partial", digestOf("abcdefghi"));
      expect(await readBlob(digestOf("abcdefghi"))).toBe("abcdefghi");
      await store.abortUpload("empty");
    });

    it("commits bytes appended as the last ones for their digest", async () => {
      await store.startUpload("landing");
      await store.appendUpload("landing", streamOf("first "));
      expect(await store.appendUpload("landing", streamOf("and last"), digestOf("first and last"))).toBe(14);
      await store.commitUpload("landing", digestOf("first and last"));
      expect(await readBlob(digestOf("first and last"))).toBe("first and last");
      expect(await collect(store.listUploads())).toEqual([]);
    });

    it("streams a 32 MiB blob in and out intact", async () => {
      const size = 32 * 1024 * 1024;
      const tap = new HashingStream(createHash("sha256"));
      await store.startUpload("big");
      expect(await store.appendUpload("big", generatedBytes(size).pipe(tap))).toBe(size);
      expect(tap.bytes).toBe(size);
      const digest = `sha256:${tap.hash.digest("hex")}`;

      expect(await sha256OfStream(await store.readUpload("big"))).toBe(digest);
      await store.commitUpload("big", digest);

      expect(await store.stat(digest)).toEqual({ size });
      const stream = await store.read(digest);
      expect(stream).not.toBeNull();
      expect(await sha256OfStream(stream!)).toBe(digest);
    });

    it("lists open uploads with their modification time", async () => {
      await store.startUpload("open-one");
      await store.appendUpload("open-one", streamOf("data"));
      await pushBlob("committed", "gone from uploads");

      const uploads = await collect(store.listUploads());
      expect(uploads.map((upload) => upload.id)).toEqual(["open-one"]);
      // Not toBeInstanceOf(Date): jest's sandbox has its own Date, distinct from the one Node's fs hands out.
      expect(Object.prototype.toString.call(uploads[0].modified)).toBe("[object Date]");
      expect(uploads[0].modified.getTime()).toBeGreaterThan(0);
    });

    it("answers a ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
