import { randomUUID } from "node:crypto";
import { readdir, utimes } from "node:fs/promises";
import { Readable } from "node:stream";
import { FilesystemBlobStore } from "../../registry/storage/filesystem";
import path from "node:path";
import { startBerth, type TestBerth } from "../support/berth";
import { basicAuth, RegistryClient, type PushedImage } from "../support/registry-client";
import { seededBytes } from "../support/seeded-bytes";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface GcRun {
  id: number;
  job_status: string;
  job_kind: string;
  job_parameters: string;
  metrics: { freedBytes: number; deletedBlobs: number; deletedManifests: number };
}

async function storedBlobs(berth: TestBerth): Promise<string[]> {
  const root = path.join(berth.dataDir, "blobs", "blobs", "sha256");
  const dirs = await readdir(root).catch(() => [] as string[]);
  return (await Promise.all(dirs.map((dir) => readdir(path.join(root, dir))))).flat().map((hex) => `sha256:${hex}`);
}

/** Runs GC by hand and waits for it to end. */
async function collect(admin: RegistryClient, parameters: Record<string, boolean> = {}): Promise<GcRun & { log: string }> {
  const started = await admin.fetch("/api/v2.0/system/gc/schedule", json("POST", { schedule: { type: "Manual" }, parameters }));
  expect(started.status).toBe(201);
  const location = started.headers.get("location")!;
  let run: GcRun | undefined;
  await waitUntil(async () => {
    run = (await (await admin.fetch(location)).json()) as GcRun;
    return run.job_status !== "Running";
  }, "garbage collection to finish");
  const log = await (await admin.fetch(`${location}/log`)).text();
  return { ...run!, log };
}

/** Pushes an image whose layer is `size` bytes derived from `seed`. */
/** An image whose blobs (config and layer) take about `size` bytes, and that size exactly. */
async function pushSized(client: RegistryClient, repository: string, tag: string, seed: string, size: number): Promise<PushedImage & { layerSize: number }> {
  const image = await client.pushImage(repository, tag, seed, size);
  const configSize = Buffer.byteLength(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  return { ...image, layerSize: size + configSize };
}

describe("garbage collection (grace 0)", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_GC_GRACE_SECONDS: "0" } });
    admin = new RegistryClient(berth.url);
  });
  afterAll(() => berth.close());

  it("previews with a dry run, then removes exactly the untagged manifest and the blobs only it used", async () => {
    const kept = await pushSized(admin, "library/app", "v1", "kept", 300_000);
    const dropped = await pushSized(admin, "library/app", "v2", "dropped", 200_000);
    expect((await admin.fetch("/v2/library/app/manifests/v2", { method: "DELETE" })).status).toBe(202);
    const orphan = await admin.pushBlob("library/app", seededBytes("orphan", 50_000));

    const preview = await collect(admin, { dry_run: true });
    expect(preview.job_status).toBe("Success");
    expect(JSON.parse(preview.job_parameters)).toEqual({ delete_untagged: true, dry_run: true });
    expect(preview.log).toContain(`manifest library/app@${dropped.manifestDigest}`);
    expect(preview.log).toContain(`blob ${orphan} (50000 bytes)`);
    expect(preview.metrics.freedBytes).toBe(dropped.layerSize + 50_000);
    expect(await admin.blobStatus("library/app", orphan)).toBe(200); // nothing changed
    expect((await admin.fetch(`/v2/library/app/manifests/${dropped.manifestDigest}`, { method: "HEAD" })).status).toBe(200);

    const run = await collect(admin);
    expect(run.job_status).toBe("Success");
    expect(run.metrics).toMatchObject({ deletedManifests: 1, deletedBlobs: 3, freedBytes: dropped.layerSize + 50_000 });
    expect((await admin.fetch(`/v2/library/app/manifests/${dropped.manifestDigest}`, { method: "HEAD" })).status).toBe(404);
    for (const digest of [dropped.configDigest, dropped.layerDigest, orphan]) expect(await admin.blobStatus("library/app", digest)).toBe(404);
    const stored = await storedBlobs(berth);
    expect(stored).not.toContain(dropped.layerDigest);
    for (const digest of [kept.configDigest, kept.layerDigest]) {
      expect(stored).toContain(digest);
      expect(await admin.pulledDigest("library/app", digest)).toBe(digest);
    }
    expect((await admin.fetch("/v2/library/app/manifests/v1")).status).toBe(200);
  });

  it("keeps a blob another repository still uses, and an untagged child of a tagged index", async () => {
    const one = await pushSized(admin, "library/one", "v1", "shared", 10_000);
    await pushSized(admin, "library/two", "v1", "shared", 10_000);
    expect((await admin.fetch("/v2/library/one/manifests/v1", { method: "DELETE" })).status).toBe(202);
    const child = await pushSized(admin, "library/multi", "child-tmp", "child", 1000);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: child.manifestDigest, size: 0, platform: { os: "linux", architecture: "amd64" } }],
    });
    const put = await admin.fetch("/v2/library/multi/manifests/latest", { method: "PUT", headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" }, body: index });
    expect(put.status).toBe(201);
    expect((await admin.fetch("/v2/library/multi/manifests/child-tmp", { method: "DELETE" })).status).toBe(202);

    await collect(admin);
    expect(await admin.blobStatus("library/one", one.layerDigest)).toBe(404);
    expect(await admin.pulledDigest("library/two", one.layerDigest)).toBe(one.layerDigest);
    expect((await admin.fetch(`/v2/library/multi/manifests/${child.manifestDigest}`, { method: "HEAD" })).status).toBe(200);
  });

});

describe("garbage collection racing pushes (grace 1 s)", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_GC_GRACE_SECONDS: "1" } });
    admin = new RegistryClient(berth.url);
  });
  afterAll(() => berth.close());

  it("never leaves a committed manifest without its blobs, even when the manifest reuses blobs GC is removing", async () => {
    // Blobs pushed, then left unreferenced past the grace period: GC candidates that manifests now claim.
    const images = [];
    for (let i = 0; i < 12; i++) {
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed: `race-${i}` }));
      const layer = seededBytes(`race-${i}/layer`, 20_000);
      images.push({ config, layer, configDigest: await admin.pushBlob("library/race", config), layerDigest: await admin.pushBlob("library/race", layer) });
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));

    let collecting = true;
    const collector = (async () => {
      while (collecting) await collect(admin);
    })();
    const outcomes = await Promise.all(
      images.map(async (image, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 7));
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: image.configDigest, size: image.config.length },
          layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: image.layerDigest, size: image.layer.length }],
        });
        const response = await admin.fetch(`/v2/library/race/manifests/t${i}`, {
          method: "PUT",
          headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
          body: manifest,
        });
        return { image, status: response.status, body: await response.text() };
      }),
    );
    collecting = false;
    await collector;
    await collect(admin);
    for (const { image, status, body } of outcomes) {
      // A push may lose the race (its blobs were already gone): then it is refused, never half-accepted.
      if (status !== 201) {
        expect(body).toMatch(/MANIFEST_BLOB_UNKNOWN/);
        continue;
      }
      for (const digest of [image.configDigest, image.layerDigest]) expect(await admin.pulledDigest("library/race", digest)).toBe(digest);
    }
  });
});

describe("garbage collection API", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
  });
  afterAll(() => berth.close());

  it("leaves recent blobs alone with the default grace period", async () => {
    const orphan = await admin.pushBlob("library/app", seededBytes("recent", 1000));
    const run = await collect(admin);
    expect(run.metrics.freedBytes).toBe(0);
    expect(await admin.blobStatus("library/app", orphan)).toBe(200);
  });

  it("removes upload areas no session knows once they are a day old (a process killed before recording them)", async () => {
    const store = new FilesystemBlobStore(path.join(berth.dataDir, "blobs"));
    const [old, recent] = [randomUUID(), randomUUID()];
    for (const id of [old, recent]) {
      await store.startUpload(id);
      await store.appendUpload(id, Readable.from([Buffer.from("abandoned bytes")]));
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(path.join(berth.dataDir, "blobs", "uploads", old), twoDaysAgo, twoDaysAgo);
    expect((await collect(admin)).job_status).toBe("Success");
    const left: string[] = [];
    for await (const upload of store.listUploads()) left.push(upload.id);
    expect(left).toContain(recent);
    expect(left).not.toContain(old);
  });

  it("stores a schedule in Harbor's shape and refuses bad crons naming the field", async () => {
    const put = await admin.fetch("/api/v2.0/system/gc/schedule", json("PUT", { schedule: { type: "Custom", cron: "0 30 2 * * *" }, parameters: { delete_untagged: false } }));
    expect(put.status).toBe(200);
    expect(await (await admin.fetch("/api/v2.0/system/gc/schedule")).json()).toMatchObject({
      schedule: { type: "Custom", cron: "0 30 2 * * *" },
      job_parameters: JSON.stringify({ delete_untagged: false, dry_run: false }),
    });
    await admin.fetch("/api/v2.0/system/gc/schedule", json("PUT", { schedule: { type: "Daily" } }));
    expect(((await (await admin.fetch("/api/v2.0/system/gc/schedule")).json()) as { schedule: { type: string } }).schedule.type).toBe("Daily");
    const bad = await admin.fetch("/api/v2.0/system/gc/schedule", json("PUT", { schedule: { type: "Custom", cron: "0 99 * * * *" } }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/minute field/);
    expect((await admin.fetch("/api/v2.0/system/gc/schedule", json("PUT", { schedule: { type: "Sometimes" } }))).status).toBe(400);
    expect((await admin.fetch("/api/v2.0/system/gc/schedule", json("PUT", { schedule: { type: "None" } }))).status).toBe(200);
  });

  it("is for system admins only", async () => {
    await admin.createUser("someone", "Someone-Passw0rd");
    const someone = new RegistryClient(berth.url, basicAuth("someone", "Someone-Passw0rd"));
    expect((await someone.fetch("/api/v2.0/system/gc")).status).toBe(403);
    expect((await someone.fetch("/api/v2.0/system/gc/schedule", json("POST", { schedule: { type: "Manual" } }))).status).toBe(403);
    expect((await fetch(`${berth.url}/api/v2.0/system/gc`)).status).toBe(401);
    const listed = await admin.fetch("/api/v2.0/system/gc");
    expect(Number(listed.headers.get("x-total-count"))).toBeGreaterThan(0);
    expect((await admin.fetch("/api/v2.0/system/gc/99999")).status).toBe(404);
  });
});
