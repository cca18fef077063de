/**
 * A manifest's references are rows its push writes: a layer repeated 27 000 times is stored once, and more distinct
 * references than BERTH_MAX_MANIFEST_REFERENCES are refused with the spec's MANIFEST_INVALID naming the limit.
 */
import { createHash } from "node:crypto";
import { ADMIN_AUTH, prepareEnvironment, spawnBerth, type BerthProcess } from "../../support/berth";
import { RegistryClient } from "../../support/registry-client";

const LIMIT = 300;
let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let berth: BerthProcess;
let admin: RegistryClient;

// Its own process, so what an unrelated request waits is the server's doing, not this test's.
beforeAll(async () => {
  environment = await prepareEnvironment({ BERTH_MAX_MANIFEST_REFERENCES: String(LIMIT) });
  berth = await spawnBerth(environment.env);
  admin = new RegistryClient(berth.url);
}, 120_000);
afterAll(async () => {
  await berth?.kill("SIGTERM");
  await environment?.cleanup();
});

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const putManifest = (repository: string, tag: string, manifest: unknown) =>
  fetch(`${berth.url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { Authorization: ADMIN_AUTH, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body: typeof manifest === "string" ? manifest : JSON.stringify(manifest),
  });
const layer = (digest: string, size: number) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size });

it("stores a layer listed 27 000 times as one reference, and the manifest is served as pushed", async () => {
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const blob = Buffer.from("one layer, listed again and again");
  const configDigest = await admin.pushBlob("library/repeat", config);
  const layerDigest = await admin.pushBlob("library/repeat", blob);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: Array.from({ length: 27_000 }, () => layer(layerDigest, blob.length)),
  };
  // What an unrelated anonymous request waits meanwhile is reported (measured, not asserted).
  let pushing = true;
  const waits: number[] = [];
  const unrelated = (async () => {
    while (pushing) {
      const sent = Date.now();
      await (await fetch(`${berth.url}/v2/`)).arrayBuffer();
      waits.push(Date.now() - sent);
    }
  })();
  const body = JSON.stringify(manifest);
  const started = Date.now();
  const response = await putManifest("library/repeat", "v1", body);
  const took = Date.now() - started;
  pushing = false;
  await unrelated;
  expect(response.status).toBe(201);
  process.stdout.write(`a manifest of 27 000 repeated layers (${body.length} bytes) was stored in ${took} ms; the slowest of ${waits.length} unrelated requests meanwhile took ${Math.max(...waits)} ms\n`);
  const served = await fetch(`${berth.url}/v2/library/repeat/manifests/v1`, { headers: { Authorization: ADMIN_AUTH, Accept: "application/vnd.oci.image.manifest.v1+json" } });
  expect(served.headers.get("docker-content-digest")).toBe(sha256(JSON.stringify(manifest)));
});

it("refuses more distinct references than the limit with MANIFEST_INVALID naming it, storing nothing", async () => {
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256("config"), size: 6 },
    layers: Array.from({ length: LIMIT }, (_, i) => layer(sha256(`layer ${i}`), 10)),
  };
  const response = await putManifest("library/wide", "v1", manifest);
  expect(response.status).toBe(400);
  const body = (await response.json()) as { errors: { code: string; message: string; detail: unknown }[] };
  expect(body.errors[0]).toEqual({
    code: "MANIFEST_INVALID",
    message: `manifest refers to ${LIMIT + 1} distinct blobs and manifests; at most ${LIMIT} are accepted (BERTH_MAX_MANIFEST_REFERENCES)`,
    detail: { limit: LIMIT, references: LIMIT + 1 },
  });
  expect(await admin.digestOf("library/wide", "v1")).toBeNull();
});
