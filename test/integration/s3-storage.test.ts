/**
 * Berth with its blobs in S3 (s3rver): two processes sharing one PostgreSQL database and one bucket serve the same
 * registry — an upload started on one finishes on the other, a token from one opens the other — and a wrong bucket
 * stops the server with its reason and exit code 2.
 */
import { ADMIN_AUTH, prepareEnvironment, spawnBerth, startBerth, type BerthProcess } from "../support/berth";
import { runCli } from "../support/cli";
import { describeWithPostgres } from "../support/database";
import { RegistryClient } from "../support/registry-client";
import { startS3, type TestS3 } from "../support/s3";
import { seededBytes, sha256Of } from "../support/seeded-bytes";

function s3Env(s3: TestS3, bucket = s3.settings.bucket): Record<string, string> {
  return {
    BERTH_STORAGE: "s3",
    BERTH_S3_ENDPOINT: s3.settings.endpoint,
    BERTH_S3_BUCKET: bucket,
    BERTH_S3_REGION: s3.settings.region,
    BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
    BERTH_S3_SECRET_KEY: s3.settings.secretKey,
  };
}

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

it("refuses to start with a bucket that does not exist, saying so, with exit code 2", async () => {
  const environment = await prepareEnvironment(s3Env(s3, "no-such-bucket"));
  try {
    const { code, stderr } = await runCli("berth", ["serve"], environment.env);
    expect(code).toBe(2);
    expect(stderr).toBe(`berth: cannot start: bucket "no-such-bucket" does not exist at ${s3.settings.endpoint}: create it, or set BERTH_S3_BUCKET\n`);
  } finally {
    await environment.cleanup();
  }
});

describeWithPostgres("two nodes on one database and one bucket", () => {
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let nodes: BerthProcess[] = [];

  beforeAll(async () => {
    environment = await prepareEnvironment(s3Env(s3));
    nodes = [await spawnBerth(environment.env), await spawnBerth(environment.env)];
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.kill("SIGKILL")));
    await environment?.cleanup();
  });

  it("finishes on one node a chunked upload started on the other, and serves it from both", async () => {
    const [a, b] = nodes.map((node) => new RegistryClient(node.url));
    const content = seededBytes("two-nodes", 3 * 1024 * 1024 + 17);
    const digest = sha256Of(content);
    const location = await a.startUpload("library/shared");
    expect((await a.patchChunk(location, content.subarray(0, 1024 * 1024), 0)).status).toBe(202);
    expect((await b.patchChunk(location, content.subarray(1024 * 1024, 2 * 1024 * 1024), 1024 * 1024)).status).toBe(202);
    expect(await a.uploadedSize(location)).toBe(2 * 1024 * 1024);
    expect((await b.finishUpload(location, digest, content.subarray(2 * 1024 * 1024))).status).toBe(201);
    expect(await a.pulledDigest("library/shared", digest)).toBe(digest);
    expect(await b.pulledDigest("library/shared", digest)).toBe(digest);
    const range = await a.fetch(`/v2/library/shared/blobs/${digest}`, { headers: { Range: "bytes=10-19" } });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer())).toEqual(content.subarray(10, 20));
  });

  it("goes on with one S3 multipart upload across nodes: parts, a tail under 5 MiB folded in by the other node, the commit", async () => {
    const [a, b] = nodes.map((node) => new RegistryClient(node.url));
    const MiB = 1024 * 1024;
    const sizes = [6 * MiB + 5, MiB + 3, 7 * MiB + 1, 2 * MiB + 9];
    const content = seededBytes("two-nodes/multipart", sizes.reduce((total, size) => total + size, 0));
    const digest = sha256Of(content);
    const location = await a.startUpload("library/shared");
    let offset = 0;
    for (const [i, size] of sizes.slice(0, -1).entries()) {
      expect((await [a, b][i % 2].patchChunk(location, content.subarray(offset, offset + size), offset)).status).toBe(202);
      offset += size;
      expect(await [b, a][i % 2].uploadedSize(location)).toBe(offset);
    }
    // Neither node holds the running hash of all the bytes now: the committing one assembles the upload and reads it.
    expect((await b.finishUpload(location, digest, content.subarray(offset))).status).toBe(201);
    expect(await a.pulledDigest("library/shared", digest)).toBe(digest);
    expect(await b.pulledDigest("library/shared", digest)).toBe(digest);
    expect(await s3.openMultipartUploads()).toEqual([]);
  });

  it("accepts on one node a token the other issued", async () => {
    const token = (await (await fetch(`${nodes[0].url}/service/token?service=berth&scope=repository:library/shared:pull`, { headers: { Authorization: ADMIN_AUTH } })).json()) as { token: string };
    const onOther = await fetch(`${nodes[1].url}/v2/library/shared/tags/list`, { headers: { Authorization: `Bearer ${token.token}` } });
    // The repository holds a blob but no manifest yet: its (empty) tag list, not a challenge.
    expect(onOther.status).toBe(200);
  });
});

it("answers a push with a 5xx the client can retry while the object store is down, shows nothing half-written, and reports it in health", async () => {
  const outage = await startS3("outage");
  const berth = await startBerth({ env: s3Env(outage) });
  try {
    const admin = new RegistryClient(berth.url);
    const before = seededBytes("before-outage", 64 * 1024);
    expect(await admin.pulledDigest("library/outage", await admin.pushBlob("library/outage", before))).toBe(sha256Of(before));
    await outage.close();
    const during = seededBytes("during-outage", 64 * 1024);
    const location = await admin.fetch("/v2/library/outage/blobs/uploads/", { method: "POST" });
    expect(location.status).toBeGreaterThanOrEqual(500);
    const monolithic = await admin.fetch(`/v2/library/outage/blobs/uploads/?digest=${sha256Of(during)}`, { method: "POST", body: during, headers: { "Content-Type": "application/octet-stream" } });
    expect(monolithic.status).toBeGreaterThanOrEqual(500);
    expect(await admin.blobStatus("library/outage", sha256Of(during))).toBe(404);
    const health = await admin.fetch("/api/v2.0/health");
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toMatch(/storage/);
  } finally {
    await berth.close();
  }
});
