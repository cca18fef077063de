/**
 * A killed or restarted server loses no acknowledged upload bytes and exposes no partial blob. Runs the built
 * `berth serve` (npm run build) on one data dir and database across restarts: PostgreSQL when
 * BERTH_TEST_DATABASE_URL is set, PGlite files in the data dir otherwise.
 */
import { Agent } from "node:http";
import { ADMIN_AUTH, prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { blobFileOf, committedBlobFiles, corruptBlobFiles } from "../support/data-dir";
import { OpenRequest, type RawResponse } from "../support/raw-http";
import { RegistryClient } from "../support/registry-client";
import { seededBytes, seededChunks, sha256Of } from "../support/seeded-bytes";
import { waitUntil } from "../support/wait";

const REPO = "library/crash-recovery";
const MiB = 1024 * 1024;

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;

async function start(): Promise<void> {
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
}

/** Stops the server with `signal` and starts a new one on the same data dir and database. */
async function restartAfter(signal: NodeJS.Signals): Promise<void> {
  await server.kill(signal);
  await start();
}

beforeAll(async () => {
  environment = await prepareEnvironment({});
  await start();
});
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
});

/** A PATCH of `length` bytes starting at `start`, whose body the test writes itself. */
function openPatch(location: string, start: number, length: number, agent: Agent | false = false): OpenRequest {
  const headers = {
    Authorization: ADMIN_AUTH,
    "Content-Type": "application/octet-stream",
    "Content-Length": length,
    "Content-Range": `${start}-${start + length - 1}`,
  };
  return new OpenRequest(server.url, { method: "PATCH", path: location, headers }, agent);
}

/** Writes chunks until `limit` bytes are out (all of them by default); returns how many were written. */
async function writeChunks(request: OpenRequest, chunks: Iterable<Buffer>, limit = Infinity): Promise<number> {
  let written = 0;
  for (const chunk of chunks) {
    if (written >= limit) break;
    await request.write(chunk);
    written += chunk.length;
  }
  return written;
}

describe("kill -9 during a 64 MiB streamed PATCH", () => {
  const size = 64 * MiB;
  const seed = "crash/64MiB";
  const digest = sha256Of(seededChunks(seed, size));
  let abandoned: string;
  let sent: number;

  beforeAll(async () => {
    abandoned = await admin.startUpload(REPO);
    const request = openPatch(abandoned, 0, size);
    sent = await writeChunks(request, seededChunks(seed, size), 16 * MiB);
    await waitUntil(async () => (await admin.uploadedSize(abandoned)) > 0, "the server writes the chunk");
    await restartAfter("SIGKILL");
    request.disconnect();
  });

  it("starts again, with no blob for that digest", async () => {
    expect(await admin.blobStatus(REPO, digest)).toBe(404);
  });

  it("has no partial file under blobs/", async () => {
    expect(await committedBlobFiles(environment.dataDir)).not.toContain(blobFileOf(digest));
    expect(await corruptBlobFiles(environment.dataDir)).toEqual([]);
  });

  it("still answers GET status for the interrupted session, at no more than was sent", async () => {
    expect(await admin.uploadedSize(abandoned)).toBeLessThanOrEqual(sent);
  });

  it("accepts the whole blob again in a new session, and serves it with the right digest", async () => {
    const location = await admin.startUpload(REPO);
    const request = openPatch(location, 0, size);
    await writeChunks(request, seededChunks(seed, size));
    expect((await request.end()).status).toBe(202);
    expect((await admin.finishUpload(location, digest)).status).toBe(201);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
    expect(await corruptBlobFiles(environment.dataDir)).toEqual([]);
  });
});

describe("an upload session across a clean restart (SIGTERM)", () => {
  const blob = seededBytes("crash/across-restart", 3 * MiB);
  const digest = sha256Of(blob);
  const chunks = [blob.subarray(0, MiB), blob.subarray(MiB, 2 * MiB), blob.subarray(2 * MiB)];
  let location: string;

  beforeAll(async () => {
    location = await admin.startUpload(REPO);
    expect((await admin.patchChunk(location, chunks[0]!, 0)).status).toBe(202);
    await restartAfter("SIGTERM");
  });

  it("is still there after the restart, at the size it had", async () => {
    expect(await admin.uploadRange(location)).toBe(`0-${MiB - 1}`);
  });

  it("continues chunk by chunk and completes with the correct digest (the hash is rebuilt from disk)", async () => {
    expect((await admin.patchChunk(location, chunks[1]!, MiB)).status).toBe(202);
    expect(await admin.uploadRange(location)).toBe(`0-${2 * MiB - 1}`);
    expect((await admin.patchChunk(location, chunks[2]!, 2 * MiB)).status).toBe(202);
    expect((await admin.finishUpload(location, digest)).status).toBe(201);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });

  it("refuses a wrong digest after the restart too (the rebuilt hash is checked, not trusted)", async () => {
    const other = await admin.startUpload(REPO);
    expect((await admin.patchChunk(other, chunks[0]!, 0)).status).toBe(202);
    await restartAfter("SIGTERM");
    expect((await admin.patchChunk(other, chunks[1]!, MiB)).status).toBe(202);
    expect((await admin.finishUpload(other, sha256Of(blob.subarray(0, 2 * MiB - 1)))).status).toBe(400);
    expect((await admin.finishUpload(other, sha256Of(blob.subarray(0, 2 * MiB)))).status).toBe(201);
  });
});

describe("SIGTERM while a PATCH is in flight", () => {
  const chunk = seededBytes("crash/in-flight", 4 * MiB);
  let location: string;
  let response: RawResponse;
  let exitCode: number | null;

  beforeAll(async () => {
    location = await admin.startUpload(REPO);
    // Keep-alive, as docker and skopeo connect: the server must still let go of the connection to exit.
    const keepAlive = new Agent({ keepAlive: true });
    try {
      const request = openPatch(location, 0, chunk.length, keepAlive);
      await request.write(chunk.subarray(0, 2 * MiB));
      await waitUntil(async () => (await admin.uploadedSize(location)) > 0, "the server writes the chunk");
      const stopped = server.kill("SIGTERM");
      await request.write(chunk.subarray(2 * MiB));
      response = await request.end();
      await stopped;
    } finally {
      keepAlive.destroy();
    }
    exitCode = server.child.exitCode;
    await start();
  });

  it("lets that request finish with 202 before the server exits (cleanly)", () => {
    expect(response.status).toBe(202);
    expect(response.headers.range).toBe(`0-${chunk.length - 1}`);
    expect(exitCode).toBe(0);
  });

  it("ends that request's keep-alive connection, so the stop does not wait for the client's idle timeout", () => {
    expect(response.headers.connection).toBe("close");
  });

  it("kept every byte of it", async () => {
    expect(await admin.uploadRange(location)).toBe(`0-${chunk.length - 1}`);
    expect((await admin.finishUpload(location, sha256Of(chunk))).status).toBe(201);
  });
});
