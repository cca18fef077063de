/**
 * Two Berth processes on one PostgreSQL database and one S3 bucket behind a round-robin proxy: 20 concurrent skopeo
 * pushes, one node killed with SIGKILL in the middle. Every push that was acknowledged is pullable from the survivor,
 * the ones that failed succeed when retried, no blob in the bucket is corrupt or partial, and the killed node
 * restarts and serves everything.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { S3BlobStore } from "../../registry/storage/s3";
import { ADMIN_CREDS, prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { describeWithPostgres } from "../support/database";
import { buildLayer, writeImage, type WrittenImage } from "../support/oci-image";
import { RegistryClient } from "../support/registry-client";
import { startS3, type TestS3 } from "../support/s3";
import { seededBytes } from "../support/seeded-bytes";
import { copy } from "../support/skopeo";
import { startRoundRobinProxy, type RoundRobinProxy } from "../support/tcp-proxy";
import { describeWithTool } from "../support/tools";

const PUSHES = 20;

describeWithTool("skopeo", "two nodes behind one address", () => describeWithPostgres("on one database and one bucket", () => {
  let s3: TestS3;
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let nodes: BerthProcess[] = [];
  let proxy: RoundRobinProxy;
  let layout: string;
  const images: WrittenImage[] = [];

  beforeAll(async () => {
    s3 = await startS3();
    environment = await prepareEnvironment({
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: s3.settings.endpoint,
      BERTH_S3_BUCKET: s3.settings.bucket,
      BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
      BERTH_S3_SECRET_KEY: s3.settings.secretKey,
    });
    nodes = [await spawnBerth(environment.env), await spawnBerth(environment.env)];
    proxy = await startRoundRobinProxy(nodes.map((node) => node.host));
    layout = await mkdtemp(path.join(tmpdir(), "berth-two-nodes-"));
    for (let i = 0; i < PUSHES; i++) {
      // Incompressible layers of 2 MiB each, so the pushes are still running when a node dies.
      const layers = await Promise.all([0, 1].map((l) => buildLayer({ [`data-${l}.bin`]: seededBytes(`image-${i}-${l}`, 2 * 1024 * 1024) })));
      images.push(await writeImage(layout, { tag: `img-${i}`, layers }));
    }
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(nodes.map((node) => node.kill("SIGKILL")));
    await environment?.cleanup();
    await s3?.close();
    if (layout) await rm(layout, { recursive: true, force: true });
  });

  it(
    "keeps every acknowledged push when a node is killed mid-way, and nothing partial is ever visible",
    async () => {
      const target = (i: number) => `docker://${proxy.host}/library/app-${i}:v1`;
      const push = (i: number) => copy(`oci:${layout}:img-${i}`, target(i), { destCreds: ADMIN_CREDS });
      let acknowledged = 0;
      const pushes = images.map((_, i) =>
        push(i).then(
          () => (acknowledged += 1, true),
          () => false,
        ),
      );
      // Kill the first node once a few pushes are through: the rest are in flight on both nodes.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (acknowledged >= 3) {
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
      const acknowledgedAtKill = acknowledged;
      await nodes[0].kill("SIGKILL");
      expect(acknowledgedAtKill).toBeLessThan(PUSHES); // the kill came while pushes were in flight
      const outcomes = await Promise.all(pushes);
      expect(outcomes.filter(Boolean).length).toBeGreaterThanOrEqual(3);

      // Every acknowledged push is whole on the survivor.
      const survivor = new RegistryClient(nodes[1].url);
      for (const [i, ok] of outcomes.entries()) {
        if (!ok) continue;
        expect(await survivor.digestOf(`library/app-${i}`, "v1")).toBe(images[i].manifestDigest);
        for (const layer of images[i].layerDigests) expect(await survivor.pulledDigest(`library/app-${i}`, layer)).toBe(layer);
      }
      // The ones that failed go through when retried (the proxy now reaches only the survivor).
      for (const [i, ok] of outcomes.entries()) {
        if (ok) continue;
        await push(i);
        expect(await survivor.digestOf(`library/app-${i}`, "v1")).toBe(images[i].manifestDigest);
      }

      // No object in the bucket is anything but the complete bytes of its digest.
      const store = new S3BlobStore(s3.settings);
      let checked = 0;
      for await (const digest of store.list()) {
        const hash = createHash("sha256");
        for await (const chunk of (await store.read(digest))!) hash.update(chunk as Buffer);
        expect(`sha256:${hash.digest("hex")}`).toBe(digest);
        checked += 1;
      }
      expect(checked).toBeGreaterThanOrEqual(PUSHES * 3);

      // The killed node comes back and serves what was pushed while it was gone.
      nodes[0] = await spawnBerth(environment.env);
      const restarted = new RegistryClient(nodes[0].url);
      for (let i = 0; i < PUSHES; i++) expect(await restarted.digestOf(`library/app-${i}`, "v1")).toBe(images[i].manifestDigest);
    },
    300_000,
  );
}));
