/**
 * Blob GETs redirected to S3 (BERTH_S3_REDIRECT_SECONDS): after the usual access checks Berth answers 307 to a
 * presigned URL of s3rver, and clients (fetch, skopeo) follow it; ranges, HEADs and refused requests are answered as
 * without redirects, and redirects are off unless set.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_AUTH, ADMIN_CREDS, startBerth, type TestBerth } from "../support/berth";
import { buildLayer, readBlob, writeImage } from "../support/oci-image";
import { RegistryClient } from "../support/registry-client";
import { startS3, type TestS3 } from "../support/s3";
import { seededBytes, sha256Of } from "../support/seeded-bytes";
import { copy } from "../support/skopeo";
import { findTool, testIf } from "../support/tools";

const s3Env = (s3: TestS3, extra: Record<string, string> = {}): Record<string, string> => ({
  BERTH_STORAGE: "s3",
  BERTH_S3_ENDPOINT: s3.settings.endpoint,
  BERTH_S3_BUCKET: s3.settings.bucket,
  BERTH_S3_REGION: s3.settings.region,
  BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
  BERTH_S3_SECRET_KEY: s3.settings.secretKey,
  ...extra,
});

let s3: TestS3;
let berth: TestBerth;
let client: RegistryClient;
const content = seededBytes("s3-redirect", 3 * 1024 * 1024 + 5);
const digest = sha256Of(content);

beforeAll(async () => {
  s3 = await startS3();
  berth = await startBerth({ env: s3Env(s3, { BERTH_S3_REDIRECT_SECONDS: "60" }) });
  client = new RegistryClient(berth.url);
  const location = await client.startUpload("library/redirected");
  expect((await client.finishUpload(location, digest, content)).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await berth?.close();
  await s3?.close();
});

const blobUrl = (repository: string, blob = digest) => `${berth.url}/v2/${repository}/blobs/${blob}`;

it("answers a blob GET with 307 to a presigned S3 URL valid for BERTH_S3_REDIRECT_SECONDS, whose bytes are the blob's", async () => {
  const response = await fetch(blobUrl("library/redirected"), { redirect: "manual" });
  expect(response.status).toBe(307);
  expect(response.headers.get("docker-content-digest")).toBe(digest);
  const location = new URL(response.headers.get("location")!);
  expect(location.origin).toBe(new URL(s3.settings.endpoint).origin);
  expect(location.pathname).toBe(`/${s3.settings.bucket}/blobs/sha256/${digest.slice("sha256:".length)}`);
  expect(location.searchParams.get("X-Amz-Expires")).toBe("60");
  expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  // Signed for this host and path only (s3rver does not check presigned signatures; MinIO and AWS do).
  expect(location.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
  const fetched = await fetch(location);
  expect(fetched.status).toBe(200);
  expect(sha256Of(Buffer.from(await fetched.arrayBuffer()))).toBe(digest);
});

it("serves ranges and HEADs itself, as without redirects", async () => {
  const range = await fetch(blobUrl("library/redirected"), { headers: { Range: "bytes=10-19" }, redirect: "manual" });
  expect(range.status).toBe(206);
  expect(Buffer.from(await range.arrayBuffer())).toEqual(content.subarray(10, 20));
  const head = await fetch(blobUrl("library/redirected"), { method: "HEAD", redirect: "manual" });
  expect(head.status).toBe(200);
  expect(head.headers.get("location")).toBeNull();
  expect(head.headers.get("content-length")).toBe(String(content.length));
});

it("redirects only after the access checks: a private project's blob is refused without a URL, an unknown one is 404", async () => {
  const created = await fetch(`${berth.url}/api/v2.0/projects`, {
    method: "POST",
    headers: { Authorization: ADMIN_AUTH, "Content-Type": "application/json" },
    body: JSON.stringify({ project_name: "hidden", metadata: { public: "false" } }),
  });
  expect(created.status).toBe(201);
  const location = await client.startUpload("hidden/app");
  expect((await client.finishUpload(location, digest, content)).status).toBe(201);
  const anonymous = await fetch(blobUrl("hidden/app"), { redirect: "manual" });
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("location")).toBeNull();
  const admin = await fetch(blobUrl("hidden/app"), { headers: { Authorization: ADMIN_AUTH }, redirect: "manual" });
  expect(admin.status).toBe(307);
  const unknown = await fetch(blobUrl("library/redirected", `sha256:${"0".repeat(64)}`), { redirect: "manual" });
  expect(unknown.status).toBe(404);
  expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0].code).toBe("BLOB_UNKNOWN");
});

it("serves the bytes itself when BERTH_S3_REDIRECT_SECONDS is not set", async () => {
  const plain = await startBerth({ env: s3Env(s3) });
  try {
    const plainClient = new RegistryClient(plain.url);
    expect((await plainClient.finishUpload(await plainClient.startUpload("library/redirected"), digest, content)).status).toBe(201);
    const response = await fetch(`${plain.url}/v2/library/redirected/blobs/${digest}`, { redirect: "manual" });
    expect(response.status).toBe(200);
    expect(sha256Of(Buffer.from(await response.arrayBuffer()))).toBe(digest);
  } finally {
    await plain.close();
  }
});

testIf(findTool("skopeo") !== null, "skopeo not found on PATH")(
  "lets skopeo pull through redirects to BERTH_S3_REDIRECT_ENDPOINT, which gets no Berth token",
  async () => {
    // The endpoint clients reach: a proxy to s3rver that notes each request it forwards.
    const seen: { path: string; authorization?: string }[] = [];
    const upstream = new URL(s3.settings.endpoint);
    const proxy = createServer((incoming, outgoing) => {
      seen.push({ path: incoming.url ?? "", authorization: incoming.headers.authorization });
      const forwarded = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      incoming.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const node = await startBerth({ env: s3Env(s3, { BERTH_S3_REDIRECT_SECONDS: "60", BERTH_S3_REDIRECT_ENDPOINT: proxyUrl }) });
    const work = await mkdtemp(path.join(tmpdir(), "berth-s3-redirect-"));
    try {
      const layout = path.join(work, "src");
      const layer = await buildLayer({ "hello.txt": "redirected\n", "big.bin": seededBytes("s3-redirect/layer", 2 * 1024 * 1024) });
      await writeImage(layout, { tag: "v1", layers: [layer] });
      await copy(`oci:${layout}:v1`, `docker://${node.host}/library/pulled:v1`, { destCreds: ADMIN_CREDS });
      await copy(`docker://${node.host}/library/pulled:v1`, `oci:${path.join(work, "out")}:v1`);
      expect(sha256Of(await readBlob(path.join(work, "out"), layer.digest))).toBe(layer.digest);
      const layerKey = `/${s3.settings.bucket}/blobs/sha256/${layer.digest.slice("sha256:".length)}?`;
      expect(seen.some((request) => request.path.startsWith(layerKey) && request.path.includes("X-Amz-Signature="))).toBe(true);
      expect(seen.filter((request) => request.authorization !== undefined)).toEqual([]);
    } finally {
      await node.close();
      await new Promise((resolve) => proxy.close(resolve));
      await rm(work, { recursive: true, force: true });
    }
  },
  60_000,
);
