/**
 * Clients that vanish mid-body lose nothing that was already acknowledged, and leave nothing half-made behind:
 * an upload keeps its previous size and can be resumed, and no blob appears for bytes that never all arrived.
 */
import { ADMIN_AUTH, startBerth, type TestBerth } from "../support/berth";
import { blobFileOf, committedBlobFiles, uploadFiles } from "../support/data-dir";
import { OpenRequest } from "../support/raw-http";
import { RegistryClient } from "../support/registry-client";
import { seededBytes, sha256Of } from "../support/seeded-bytes";
import { waitUntil } from "../support/wait";

const REPO = "library/upload-faults";
const MiB = 1024 * 1024;

let berth: TestBerth;
let admin: RegistryClient;
beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
});
afterAll(() => berth.close());

interface Interruption {
  method: string;
  path: string;
  headers: Record<string, string | number>;
  /** What the client gets out before it vanishes: less than the Content-Length it declared. */
  sent: Buffer;
  /** Holds once the server is busy with the body, so the drop lands mid-body and not before it starts. */
  serverIsReading: () => Promise<boolean>;
}

/** Sends part of a body, drops the connection, and returns once the server has finished with the request. */
async function sendAndVanish(interruption: Interruption): Promise<void> {
  const request = new OpenRequest(berth.url, {
    method: interruption.method,
    path: interruption.path,
    headers: { Authorization: ADMIN_AUTH, "Content-Type": "application/octet-stream", ...interruption.headers },
  });
  await request.write(interruption.sent);
  await waitUntil(interruption.serverIsReading, `the server reads the ${interruption.method} body`);
  request.disconnect();
  await waitUntil(async () => (await admin.uploadsInProgress(berth.metricsUrl!)) === 0, "the server has let go of the upload");
}

describe("a client that disconnects mid-PATCH", () => {
  // The server writes in ~1 MiB batches: send enough of the chunk that some of it surely reaches the disk.
  const blob = seededBytes("faults/resume", 4 * MiB);
  const digest = sha256Of(blob);
  const first = blob.subarray(0, MiB);
  const second = blob.subarray(MiB);
  let location: string;

  beforeAll(async () => {
    location = await admin.startUpload(REPO);
    expect((await admin.patchChunk(location, first, 0)).status).toBe(202);
    await sendAndVanish({
      method: "PATCH",
      path: location,
      headers: { "Content-Length": second.length, "Content-Range": `${MiB}-${4 * MiB - 1}` },
      sent: second.subarray(0, 2 * MiB),
      serverIsReading: async () => (await admin.uploadedSize(location)) > MiB,
    });
  });

  it("leaves the upload at its previous size", async () => {
    expect(await admin.uploadRange(location)).toBe(`0-${MiB - 1}`);
  });

  it("can be resumed from there and completed with the right digest", async () => {
    expect((await admin.patchChunk(location, second, MiB)).status).toBe(202);
    expect((await admin.finishUpload(location, digest)).status).toBe(201);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });
});

describe("a client that disconnects during the last chunk of the closing PUT", () => {
  const blob = seededBytes("faults/closing-put", 4 * MiB);
  const digest = sha256Of(blob);
  let location: string;

  beforeAll(async () => {
    location = await admin.startUpload(REPO);
    expect((await admin.patchChunk(location, blob.subarray(0, MiB), 0)).status).toBe(202);
    await sendAndVanish({
      method: "PUT",
      path: `${location}?digest=${digest}`,
      headers: { "Content-Length": 3 * MiB },
      sent: blob.subarray(MiB, 3 * MiB),
      serverIsReading: async () => (await admin.uploadedSize(location)) > MiB,
    });
  });

  it("makes no blob and keeps the session at its previous size", async () => {
    expect(await admin.blobStatus(REPO, digest)).toBe(404);
    expect(await admin.uploadRange(location)).toBe(`0-${MiB - 1}`);
  });

  it("lets the client send the PUT again", async () => {
    expect((await admin.finishUpload(location, digest, blob.subarray(MiB))).status).toBe(201);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });
});

describe("a client that disconnects mid monolithic POST", () => {
  const blob = seededBytes("faults/monolithic", 2 * MiB);
  const digest = sha256Of(blob);

  beforeAll(async () => {
    await sendAndVanish({
      method: "POST",
      path: `/v2/${REPO}/blobs/uploads/?digest=${digest}`,
      headers: { "Content-Length": blob.length },
      sent: blob.subarray(0, MiB),
      serverIsReading: async () => (await admin.uploadsInProgress(berth.metricsUrl!)) > 0,
    });
    // The session behind a monolithic POST is the server's own: it drops it once the body fails.
    await waitUntil(async () => (await uploadFiles(berth.dataDir)).length === 0, "the abandoned session is dropped");
  });

  it("leaves no blob", async () => {
    expect(await admin.blobStatus(REPO, digest)).toBe(404);
  });

  it("leaves no file under blobs/", async () => {
    expect(await committedBlobFiles(berth.dataDir)).not.toContain(blobFileOf(digest));
  });

  it("does not stop the same blob from being pushed afterwards", async () => {
    expect(await admin.pushBlob(REPO, blob)).toBe(digest);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });
});

describe("two uploads of the same blob at once", () => {
  it("both succeed as chunked uploads, and the blob is stored once", async () => {
    const blob = seededBytes("faults/parallel-chunked", 4 * MiB);
    const digest = sha256Of(blob);
    const locations = await Promise.all([admin.startUpload(REPO), admin.startUpload(REPO)]);
    const patched = await Promise.all(locations.map((location) => admin.patchChunk(location, blob, 0)));
    expect(patched.map((response) => response.status)).toEqual([202, 202]);
    const finished = await Promise.all(locations.map((location) => admin.finishUpload(location, digest)));
    expect(finished.map((response) => response.status)).toEqual([201, 201]);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
    expect((await committedBlobFiles(berth.dataDir)).filter((file) => file === blobFileOf(digest))).toHaveLength(1);
  });

  it("both succeed as monolithic POSTs", async () => {
    const blob = seededBytes("faults/parallel-monolithic", 4 * MiB);
    const digest = sha256Of(blob);
    expect(await Promise.all([admin.pushBlob(REPO, blob), admin.pushBlob(REPO, blob)])).toEqual([digest, digest]);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });

  it("left no upload files behind", async () => {
    expect(await uploadFiles(berth.dataDir)).toEqual([]);
  });
});
