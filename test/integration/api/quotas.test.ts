import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { seededBytes } from "../../support/seeded-bytes";

const MiB = 1024 * 1024;
const PASSWORD = "Quota-Passw0rd";

let berth: TestBerth;
let admin: RegistryClient;
let projectId: number;

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface Quota {
  id: number;
  ref: { id: number; name: string };
  hard: { storage: number };
  used: { storage: number };
}

async function quota(): Promise<Quota> {
  const response = await admin.fetch(`/api/v2.0/quotas/${projectId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Quota;
}

/** Every blob file the store holds, by digest hex. */
async function storedBlobs(): Promise<string[]> {
  const root = path.join(berth.dataDir, "blobs", "blobs", "sha256");
  const dirs = await readdir(root).catch(() => [] as string[]);
  return (await Promise.all(dirs.map((dir) => readdir(path.join(root, dir))))).flat();
}

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  const created = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "capped", storage_limit: 10 * MiB }));
  expect(created.status).toBe(201);
  projectId = Number(created.headers.get("location")!.split("/").pop());
  await admin.createUser("owner", PASSWORD);
  await admin.addMember("capped", "owner", 1);
});
afterAll(() => berth.close());

describe("storage quotas", () => {
  it("reports the limit set at creation and no usage", async () => {
    expect(await quota()).toMatchObject({ id: projectId, ref: { id: projectId, name: "capped" }, hard: { storage: 10 * MiB }, used: { storage: 0 } });
    const listed = await admin.fetch(`/api/v2.0/quotas?reference=project&reference_id=${projectId}`);
    expect(Number(listed.headers.get("x-total-count"))).toBe(1);
  });

  it("counts a blob once however many repositories of the project hold it", async () => {
    const blob = seededBytes("quota/a", 6 * MiB);
    await admin.pushBlob("capped/one", blob);
    await admin.pushBlob("capped/two", blob);
    expect((await quota()).used.storage).toBe(6 * MiB);
  });

  it("refuses a blob that would exceed the limit with 403 DENIED, storing nothing", async () => {
    const before = await storedBlobs();
    expect(before.length).toBeGreaterThan(0);
    const big = seededBytes("quota/b", 6 * MiB);
    const location = await admin.startUpload("capped/one");
    // As a chunk it is refused as it arrives (what is left is 4 MiB); as the closing PUT's body, once verified.
    const chunk = await admin.patchChunk(location, big, 0);
    expect(chunk.status).toBe(403);
    expect(((await chunk.json()) as { errors: { code: string }[] }).errors[0].code).toBe("DENIED");
    const digest = `sha256:${createHash("sha256").update(big).digest("hex")}`;
    const refused = await admin.finishUpload(location, digest, big);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0].code).toBe("DENIED");
    expect(body.errors[0].message).toMatch(/adding 6\.0 MiB .* current usage of 6\.0 MiB will exceed the configured upper limit of 10\.0 MiB/);
    expect(await admin.blobStatus("capped/one", digest)).toBe(404);
    expect((await admin.fetch(location)).status).toBe(404); // the session is gone too
    expect(await storedBlobs()).toEqual(before);
    expect((await quota()).used.storage).toBe(6 * MiB);
  });

  it("refuses a cross-repository mount over the limit", async () => {
    await admin.createProject("elsewhere", { public: false });
    const digest = await admin.pushBlob("elsewhere/src", seededBytes("quota/c", 5 * MiB));
    const mounted = await admin.fetch(`/v2/capped/one/blobs/uploads/?mount=${digest}&from=elsewhere/src`, { method: "POST" });
    expect(mounted.status).toBe(403);
    expect(await admin.blobStatus("capped/one", digest)).toBe(404);
  });

  it("lets only system admins change a quota, and honours the new limit at once", async () => {
    const owner = new RegistryClient(berth.url, basicAuth("owner", PASSWORD));
    expect((await owner.fetch(`/api/v2.0/quotas/${projectId}`, json("PUT", { hard: { storage: -1 } }))).status).toBe(403);
    expect((await owner.fetch("/api/v2.0/quotas")).status).toBe(403);
    for (const bad of [{ hard: { storage: 0 } }, { hard: {} }, { hard: { storage: "1" } }, {}]) {
      expect((await admin.fetch(`/api/v2.0/quotas/${projectId}`, json("PUT", bad))).status).toBe(400);
    }
    expect((await admin.fetch(`/api/v2.0/quotas/${projectId}`, json("PUT", { hard: { storage: 20 * MiB } }))).status).toBe(200);
    await admin.pushBlob("capped/one", seededBytes("quota/b", 6 * MiB));
    expect(await quota()).toMatchObject({ hard: { storage: 20 * MiB }, used: { storage: 12 * MiB } });
    const summary = (await (await owner.fetch("/api/v2.0/projects/capped/summary")).json()) as { quota: Quota };
    expect(summary.quota).toEqual({ hard: { storage: 20 * MiB }, used: { storage: 12 * MiB } });
  });

  it("answers unknown quotas with 404 and bad sort keys with 400", async () => {
    expect((await admin.fetch("/api/v2.0/quotas/99999")).status).toBe(404);
    expect((await admin.fetch("/api/v2.0/quotas?sort=-used.storage")).status).toBe(200);
    expect((await admin.fetch("/api/v2.0/quotas?sort=size")).status).toBe(400);
  });
});
