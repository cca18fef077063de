/**
 * Berth on S3 writes every pushed byte to the object store once (issue 20): a counting proxy in front of s3rver
 * adds up the bodies of PUTs (PutObject, UploadPart) while 64 MiB blobs are pushed monolithically and in chunks.
 * A commit whose digest was only known at the end adds one server-side copy, which moves no byte over the network.
 */
import { startBerth, type TestBerth } from "../support/berth";
import { RegistryClient } from "../support/registry-client";
import { startCountingS3Proxy, type CountingS3Proxy } from "../support/s3-traffic";
import { startS3, type TestS3 } from "../support/s3";
import { seededBytes, sha256Of } from "../support/seeded-bytes";

const MiB = 1024 * 1024;
const REPO = "library/write-once";

let s3: TestS3;
let proxy: CountingS3Proxy;
let berth: TestBerth;
let admin: RegistryClient;

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startCountingS3Proxy(s3.settings);
  berth = await startBerth({
    env: {
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: proxy.settings.endpoint,
      BERTH_S3_BUCKET: proxy.settings.bucket,
      BERTH_S3_ACCESS_KEY: proxy.settings.accessKey,
      BERTH_S3_SECRET_KEY: proxy.settings.secretKey,
    },
  });
  admin = new RegistryClient(berth.url);
}, 60_000);
afterAll(async () => {
  await berth?.close();
  await proxy?.close();
  await s3?.close();
});
beforeEach(() => proxy.reset());
afterEach(async () => {
  expect(await s3.openMultipartUploads()).toEqual([]);
});

const MIN_PART = 5 * MiB;
const partsAreValid = (sizes: number[]) => sizes.length > 0 && sizes.slice(0, -1).every((size) => size >= MIN_PART);

it("writes a 64 MiB monolithic push once, straight to the blob's key", async () => {
  const content = seededBytes("write-once/monolithic", 64 * MiB);
  const digest = await admin.pushBlob(REPO, content);

  expect(proxy.traffic.writtenBytes / content.length).toBeLessThanOrEqual(1.0);
  expect(proxy.traffic.writtenBytes).toBe(content.length);
  expect(proxy.traffic.copies).toBe(0);
  expect(proxy.traffic.completed.map((upload) => upload.key)).toEqual([`blobs/sha256/${digest.slice(7)}`]);
  expect(partsAreValid(proxy.traffic.completed[0].partSizes)).toBe(true);
  expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
});

it("writes a 64 MiB push in PATCHes that are not multiples of 5 MiB once, plus one server-side copy", async () => {
  const sizes = [7, 11, 13, 9, 17, 7].map((mib, i) => mib * MiB + i * 4099);
  const content = seededBytes("write-once/chunked", sizes.reduce((a, b) => a + b, 0));
  const digest = sha256Of(content);
  const location = await admin.startUpload(REPO);
  let offset = 0;
  for (const size of sizes) {
    expect((await admin.patchChunk(location, content.subarray(offset, offset + size), offset)).status).toBe(202);
    offset += size;
  }
  expect((await admin.finishUpload(location, digest)).status).toBe(201);

  expect(proxy.traffic.writtenBytes / content.length).toBeLessThanOrEqual(1.0);
  expect(proxy.traffic.copies).toBe(1);
  expect(proxy.traffic.completed).toHaveLength(1);
  expect(partsAreValid(proxy.traffic.completed[0].partSizes)).toBe(true);
  expect(proxy.traffic.readBytes).toBe(0); // the running hash did the digest: nothing was read back
  expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
});

it("aborts the session's multipart upload when the client cancels it", async () => {
  const location = await admin.startUpload(REPO);
  expect((await admin.patchChunk(location, seededBytes("write-once/cancel", 12 * MiB), 0)).status).toBe(202);
  expect(await s3.openMultipartUploads()).toHaveLength(1);
  expect((await admin.fetch(location, { method: "DELETE" })).status).toBe(204);
  expect(proxy.traffic.aborted).toHaveLength(1);
});

it("makes no blob of bytes whose digest does not match at the commit, and aborts their multipart upload", async () => {
  const content = seededBytes("write-once/mismatch", 9 * MiB);
  const claimed = sha256Of(seededBytes("write-once/claimed", 9 * MiB));
  const location = await admin.startUpload(REPO);
  expect((await admin.patchChunk(location, content.subarray(0, 6 * MiB), 0)).status).toBe(202);
  const response = await admin.finishUpload(location, claimed, content.subarray(6 * MiB));
  expect(response.status).toBe(400);
  expect(((await response.json()) as { errors: { code: string }[] }).errors[0].code).toBe("DIGEST_INVALID");
  expect(proxy.traffic.aborted).toHaveLength(1);
  expect(proxy.traffic.completed).toEqual([]);
  for (const digest of [claimed, sha256Of(content)]) expect(await admin.blobStatus(REPO, digest)).toBe(404);

  // The same with a monolithic POST: its multipart upload was at the claimed digest's key, and is gone.
  proxy.reset();
  const monolithic = await admin.fetch(`/v2/${REPO}/blobs/uploads/?digest=${claimed}`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: content });
  expect(monolithic.status).toBe(400);
  expect(proxy.traffic.aborted).toHaveLength(1);
  expect(await admin.blobStatus(REPO, claimed)).toBe(404);
});
