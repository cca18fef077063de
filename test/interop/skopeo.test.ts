import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_AUTH, ADMIN_CREDS, startBerth, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { buildLayer, readBlob, sha256Digest, writeArtifact, writeImage, writeIndex, type WrittenImage } from "../support/oci-image";
import { copy, deleteImage, inspect, listTags, SkopeoError } from "../support/skopeo";
import { RegistryClient } from "../support/registry-client";
import { seededBytes } from "../support/seeded-bytes";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const MEMBER_PASSWORD = "Member-Passw0rd";

/** How many `method` requests on `route` Berth answered 201 so far, from its request metrics. */
function countsFrom(metrics: string, method: string, route: string): number {
  const line = new RegExp(`^berth_http_requests_total\\{method="${method}",route="${route}",status="201"\\} (\\d+)$`, "m").exec(metrics);
  return line ? Number(line[1]) : 0;
}

describeWithTool("skopeo", "skopeo against Berth", () => {
  let berth: TestBerth;
  let work: string;
  let layout: string;
  let image: WrittenImage;

  const registry = (repository: string) => `docker://${berth.host}/${repository}`;
  const uploadCounts = async () => {
    const metrics = await (await fetch(`${berth.metricsUrl}/metrics`)).text();
    return { mounted: countsFrom(metrics, "POST", "v2:upload-start"), uploaded: countsFrom(metrics, "PUT", "v2:upload") };
  };

  beforeAll(async () => {
    berth = await startBerth({ env: RECEIVERS_ON_LOOPBACK });
    work = await mkdtemp(path.join(tmpdir(), "berth-interop-"));
    layout = path.join(work, "source");
    const layers = [
      await buildLayer({ "etc/os-release": "NAME=berth-test\n", "bin/hello": "#!/bin/sh\necho hello\n" }),
      await buildLayer({ "app/data.bin": Buffer.alloc(256 * 1024, 7) }),
      await buildLayer({ "app/config.json": '{"debug":false}\n' }),
    ];
    image = await writeImage(layout, { tag: "v1", layers });
    await writeIndex(layout, {
      tag: "multi",
      images: [
        { platform: { os: "linux", architecture: "amd64" }, layers: [layers[0]!] },
        { platform: { os: "linux", architecture: "arm64" }, layers: [layers[0]!, layers[2]!] },
      ],
    });
    await writeArtifact(layout, {
      tag: "sbom",
      subject: image.descriptor,
      artifactType: "application/vnd.example.sbom.v1+json",
      blobs: [{ mediaType: "application/vnd.example.sbom.v1+json", content: '{"packages":[]}' }],
    });
    await fetch(`${berth.url}/api/v2.0/projects`, {
      method: "POST",
      headers: { Authorization: ADMIN_AUTH, "Content-Type": "application/json" },
      body: JSON.stringify({ project_name: "private-team", metadata: { public: "false" } }),
    });
  });

  afterAll(async () => {
    await berth?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("refuses an anonymous push", async () => {
    await expect(copy(`oci:${layout}:v1`, `${registry("library/app")}:v1`)).rejects.toThrow(SkopeoError);
  });

  it("pushes an image with credentials and reports the same manifest digest", async () => {
    await copy(`oci:${layout}:v1`, `${registry("library/app")}:v1`, { destCreds: ADMIN_CREDS });
    const raw = await inspect(`${registry("library/app")}:v1`, { raw: true });
    expect(sha256Digest(raw)).toBe(image.manifestDigest);
    // skopeo followed the Bearer challenge: it fetched tokens rather than sending Basic credentials on /v2.
    const metrics = await (await fetch(`${berth.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/berth_http_requests_total\{method="GET",route="\/service\/token",status="200"\} [1-9]/);
  });

  it("lets anyone inspect and list tags of a public project", async () => {
    const summary = await inspect(`${registry("library/app")}:v1`);
    expect(summary.Digest).toBe(image.manifestDigest);
    expect(summary.Layers).toEqual(image.layerDigests);
    expect(await listTags(registry("library/app"))).toEqual(["v1"]);
  });

  it("pulls the image back byte for byte, anonymously", async () => {
    const pulled = path.join(work, "pulled");
    await copy(`${registry("library/app")}:v1`, `oci:${pulled}:v1`);
    const raw = await inspect(`oci:${pulled}:v1`, { raw: true });
    expect(sha256Digest(raw)).toBe(image.manifestDigest);
    const config = await inspect(`oci:${pulled}:v1`, { raw: true, config: true });
    expect(sha256Digest(config)).toBe(image.configDigest);
  });

  it("round-trips a two-platform index with every child", async () => {
    const source = await inspect(`oci:${layout}:multi`, { raw: true });
    await copy(`oci:${layout}:multi`, `${registry("library/multi")}:multi`, { destCreds: ADMIN_CREDS, all: true });
    const pushed = await inspect(`${registry("library/multi")}:multi`, { raw: true });
    expect(sha256Digest(pushed)).toBe(sha256Digest(source));
    const pulled = path.join(work, "multi");
    await copy(`${registry("library/multi")}:multi`, `oci:${pulled}:multi`, { all: true });
    const children = (JSON.parse(pushed.toString()) as { manifests: { digest: string }[] }).manifests;
    expect(children).toHaveLength(2);
    for (const child of children) {
      expect(sha256Digest(await inspect(`${registry("library/multi")}@${child.digest}`, { raw: true }))).toBe(child.digest);
      expect(sha256Digest(await readBlob(pulled, child.digest))).toBe(child.digest);
    }
  });

  it("pushes an artifact with a subject, which the referrers API then lists", async () => {
    await copy(`oci:${layout}:v1`, `${registry("library/signed")}:v1`, { destCreds: ADMIN_CREDS });
    await copy(`oci:${layout}:sbom`, `${registry("library/signed")}:sbom`, { destCreds: ADMIN_CREDS });
    const response = await fetch(`${berth.url}/v2/library/signed/referrers/${image.manifestDigest}`);
    const index = (await response.json()) as { manifests: { artifactType: string; digest: string }[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.artifactType).toBe("application/vnd.example.sbom.v1+json");
  });

  it("keeps a private project private: anonymous pulls fail, the admin's work", async () => {
    await copy(`oci:${layout}:v1`, `${registry("private-team/app")}:v1`, { destCreds: ADMIN_CREDS });
    await expect(inspect(`${registry("private-team/app")}:v1`)).rejects.toThrow(SkopeoError);
    const summary = await inspect(`${registry("private-team/app")}:v1`, { creds: ADMIN_CREDS });
    expect(summary.Digest).toBe(image.manifestDigest);
  });

  it("deletes an image by tag with credentials, after which it is gone", async () => {
    await copy(`oci:${layout}:v1`, `${registry("library/doomed")}:v1`, { destCreds: ADMIN_CREDS });
    await expect(deleteImage(`${registry("library/doomed")}:v1`)).rejects.toThrow(SkopeoError);
    await deleteImage(`${registry("library/doomed")}:v1`, ADMIN_CREDS);
    await expect(inspect(`${registry("library/doomed")}:v1`)).rejects.toThrow(/manifest unknown|not found/i);
  });

  it("lets a developer push but not delete, and a guest pull but not push (members of a private project)", async () => {
    const admin = new RegistryClient(berth.url);
    await admin.createProject("team", { public: false });
    for (const [user, role] of [["dev", 2], ["visitor", 3]] as const) {
      await admin.createUser(user, MEMBER_PASSWORD);
      await admin.addMember("team", user, role);
    }
    const developer = `dev:${MEMBER_PASSWORD}`;
    const guest = `visitor:${MEMBER_PASSWORD}`;
    await copy(`oci:${layout}:v1`, `${registry("team/app")}:v1`, { destCreds: developer });
    await expect(deleteImage(`${registry("team/app")}:v1`, developer)).rejects.toThrow(/denied|403|unauthorized/i);
    expect((await inspect(`${registry("team/app")}:v1`, { creds: guest })).Digest).toBe(image.manifestDigest);
    await expect(copy(`oci:${layout}:v1`, `${registry("team/app")}:v2`, { destCreds: guest })).rejects.toThrow(SkopeoError);
  });

  it("mounts the layers it pushed before into a repository of another project (same credentials, token flow)", async () => {
    const admin = new RegistryClient(berth.url);
    await admin.createUser("mounter", MEMBER_PASSWORD);
    for (const project of ["mount-from", "mount-into"]) {
      await admin.createProject(project, { public: false });
      await admin.addMember(project, "mounter", 2);
    }
    const creds = `mounter:${MEMBER_PASSWORD}`;
    const blobInfoCache = await mkdtemp(path.join(work, "blob-info-cache-"));
    await copy(`oci:${layout}:v1`, `${registry("mount-from/app")}:v1`, { destCreds: creds, blobInfoCache });
    const before = await uploadCounts();
    await copy(`oci:${layout}:v1`, `${registry("mount-into/app")}:v1`, { destCreds: creds, blobInfoCache });
    const after = await uploadCounts();
    // Every layer came by mount (POST …?mount=&from= answering 201); nothing was uploaded but what skopeo never
    // tries to mount (at most the config).
    expect(after.mounted - before.mounted).toBe(image.layerDigests.length);
    expect(after.uploaded - before.uploaded).toBeLessThanOrEqual(1);
    expect((await inspect(`${registry("mount-into/app")}:v1`, { creds })).Digest).toBe(image.manifestDigest);
    expect(await new RegistryClient(berth.url).pulledDigest("mount-into/app", image.layerDigests[1]!)).toBe(image.layerDigests[1]);
  });

  it("pushes and pulls as a project robot (robot$project+name, token flow) that may not delete", async () => {
    const admin = new RegistryClient(berth.url);
    await admin.createProject("robots-team", { public: false });
    const access = ["pull", "push"].map((action) => ({ resource: "repository", action }));
    const robot = await admin.createRobot({ name: "ci", level: "project", duration: 1, permissions: [{ kind: "project", namespace: "robots-team", access }] });
    const creds = `${robot.name}:${robot.secret}`;
    await copy(`oci:${layout}:v1`, `${registry("robots-team/app")}:v1`, { destCreds: creds });
    expect((await inspect(`${registry("robots-team/app")}:v1`, { creds })).Digest).toBe(image.manifestDigest);
    await expect(deleteImage(`${registry("robots-team/app")}:v1`, creds)).rejects.toThrow(/denied|403|unauthorized/i);
  });

  it("stops a push at the project's quota: the image that fits lands, the one that does not leaves nothing", async () => {
    const admin = new RegistryClient(berth.url);
    const limit = 1024 * 1024;
    const created = await admin.fetch("/api/v2.0/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ project_name: "capped", storage_limit: limit }),
    });
    const projectId = Number(created.headers.get("location")!.split("/").pop());
    const used = async () =>
      ((await (await admin.fetch(`/api/v2.0/quotas/${projectId}`)).json()) as { used: { storage: number } }).used.storage;

    await copy(`oci:${layout}:v1`, `${registry("capped/app")}:v1`, { destCreds: ADMIN_CREDS });
    const blobs = [image.configDigest, ...image.layerDigests];
    const sizes = await Promise.all(blobs.map(async (digest) => (await readBlob(layout, digest)).length));
    expect(await used()).toBe(sizes.reduce((a, b) => a + b, 0));

    const bigLayout = path.join(work, "big");
    await writeImage(bigLayout, { tag: "v2", layers: [await buildLayer({ "big.bin": seededBytes("quota/big", 2 * limit) })] });
    await expect(copy(`oci:${bigLayout}:v2`, `${registry("capped/app")}:v2`, { destCreds: ADMIN_CREDS })).rejects.toThrow(/exceed|denied/i);
    expect(await used()).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(await listTags(registry("capped/app"), ADMIN_CREDS)).toEqual(["v1"]);
  });

  it("tells a webhook about a skopeo push, signed, and lists the artifact with its size and push time", async () => {
    const received: { body: string; signature: string | undefined }[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ body, signature: request.headers["x-berth-signature-256"] as string | undefined });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const admin = new RegistryClient(berth.url);
      const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      const created = await admin.fetch("/api/v2.0/projects/library/webhook/policies", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "ci", event_types: ["PUSH_ARTIFACT"], targets: [{ address, secret: "s3cret" }] }),
      });
      expect(created.status).toBe(201);
      await copy(`oci:${layout}:v1`, `${registry("library/app")}:1.0`, { destCreds: ADMIN_CREDS });
      await waitUntil(() => received.some((r) => JSON.parse(r.body).event_data.resources[0].tag === "1.0"), "the PUSH_ARTIFACT webhook");
      const delivery = received.find((r) => JSON.parse(r.body).event_data.resources[0].tag === "1.0")!;
      expect(delivery.signature).toBe(`sha256=${createHmac("sha256", "s3cret").update(delivery.body).digest("hex")}`);
      expect(JSON.parse(delivery.body).event_data).toMatchObject({
        resources: [{ digest: image.manifestDigest, tag: "1.0" }],
        repository: { repo_full_name: "library/app" },
      });
      const artifact = (await (await admin.fetch("/api/v2.0/projects/library/repositories/app/artifacts/1.0")).json()) as { size: number; push_time: string };
      const blobSizes = await Promise.all([image.configDigest, ...image.layerDigests].map(async (digest) => (await readBlob(layout, digest)).length));
      expect(artifact.size).toBe(image.descriptor.size + blobSizes.reduce((a, b) => a + b, 0));
      expect(Date.parse(artifact.push_time)).not.toBeNaN();
      await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });

  it("refuses a push into a project that does not exist, naming it", async () => {
    await expect(
      copy(`oci:${layout}:v1`, `${registry("no-such-project/app")}:v1`, { destCreds: ADMIN_CREDS }),
    ).rejects.toThrow(/no-such-project/);
  });
});
