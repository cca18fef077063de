import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_CREDS, startBerth, type TestBerth } from "../support/berth";
import { buildLayer, readBlob, writeImage, type WrittenImage } from "../support/oci-image";
import { RegistryClient } from "../support/registry-client";
import { seededBytes } from "../support/seeded-bytes";
import { copy, inspect, SkopeoError } from "../support/skopeo";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** Starts a run (or GC) at `path` with `body`, waits for it, and returns it from `location`. */
async function runToEnd(admin: RegistryClient, path: string, body: unknown): Promise<{ location: string; run: Record<string, unknown> }> {
  const started = await admin.fetch(path, json("POST", body));
  expect(started.status).toBe(201);
  const location = started.headers.get("location")!;
  const listing = location.replace(/\/\d+$/, "");
  let run: Record<string, unknown> = {};
  await waitUntil(async () => {
    const runs = (await (await admin.fetch(listing)).json()) as Record<string, unknown>[];
    run = runs.find((r) => String(r.id) === location.split("/").pop())!;
    return run !== undefined && run.status !== "Running" && run.job_status !== "Running";
  }, `${path} to finish`);
  return { location, run };
}

describeWithTool("skopeo", "tag retention end to end", () => {
  let berth: TestBerth;
  let work: string;
  const images: WrittenImage[] = [];
  const registry = (repository: string) => `docker://${berth.host}/${repository}`;

  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_GC_GRACE_SECONDS: "0" } });
    work = await mkdtemp(path.join(tmpdir(), "berth-retention-"));
    for (let i = 1; i <= 10; i++) {
      images.push(await writeImage(path.join(work, "layout"), { tag: `v${i}`, layers: [await buildLayer({ [`data-${i}.bin`]: seededBytes(`retention-${i}`, 20_000) })] }));
    }
  });
  afterAll(async () => {
    await berth?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("previews, deletes exactly the preview, keeps the rest pullable, and GC frees their bytes", async () => {
    const admin = new RegistryClient(berth.url);
    const created = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "keep3" }));
    const projectId = Number(created.headers.get("location")!.split("/").pop());
    for (let i = 1; i <= 10; i++) await copy(`oci:${path.join(work, "layout")}:v${i}`, `${registry("keep3/app")}:v${i}`, { destCreds: ADMIN_CREDS });

    const policy = await admin.fetch(
      "/api/v2.0/retentions",
      json("POST", {
        algorithm: "or",
        scope: { level: "project", ref: projectId },
        trigger: { kind: "Schedule", settings: { cron: "" } },
        rules: [
          {
            template: "latestPushedK",
            params: { latestPushedK: 3 },
            tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "v*" }],
            scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
          },
        ],
      }),
    );
    expect(policy.status).toBe(201);
    const retention = policy.headers.get("location")!;
    const project = (await (await admin.fetch(`/api/v2.0/projects/${projectId}`)).json()) as { metadata: Record<string, string> };
    expect(project.metadata.retention_id).toBe(retention.split("/").pop());

    // What would go: v1..v7, the seven oldest pushes.
    const doomed = images.slice(0, 7).map((image) => image.manifestDigest);
    const preview = await runToEnd(admin, `${retention}/executions`, { dry_run: true });
    expect(preview.run).toMatchObject({ status: "Success", dry_run: true });
    const [task] = (await (await admin.fetch(`${preview.location}/tasks`)).json()) as { id: number; repository: string; total: number; retained: number }[];
    expect(task).toMatchObject({ repository: "keep3/app", total: 10, retained: 3 });
    const table = await (await admin.fetch(`${preview.location}/tasks/${task.id}`)).text();
    const previewed = table.split("\n").filter((line) => line.includes("| DEL")).map((line) => line.split(" | ")[0]);
    expect(previewed.sort()).toEqual([...doomed].sort());
    expect((await inspect(`${registry("keep3/app")}:v1`, { creds: ADMIN_CREDS })).Digest).toBe(images[0].manifestDigest);

    // The real run deletes exactly that list.
    const real = await runToEnd(admin, `${retention}/executions`, {});
    expect(real.run).toMatchObject({ status: "Success", dry_run: false });
    for (let i = 1; i <= 7; i++) await expect(inspect(`${registry("keep3/app")}:v${i}`, { creds: ADMIN_CREDS })).rejects.toThrow(SkopeoError);
    for (let i = 8; i <= 10; i++) {
      await copy(`${registry("keep3/app")}:v${i}`, `oci:${path.join(work, "pulled")}:v${i}`, { srcCreds: ADMIN_CREDS });
    }

    // GC then frees the deleted artifacts' blobs (each image has its own config and layer).
    const blobSizes = await Promise.all(
      images.slice(0, 7).flatMap((image) => [image.configDigest, ...image.layerDigests]).map(async (digest) => (await readBlob(path.join(work, "layout"), digest)).length),
    );
    const gc = await runToEnd(admin, "/api/v2.0/system/gc/schedule", { schedule: { type: "Manual" } });
    expect(gc.run).toMatchObject({ job_status: "Success", metrics: { freedBytes: blobSizes.reduce((a, b) => a + b, 0), deletedBlobs: 14 } });
  });
});
