import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_CREDS, startBerth, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { createProxyProject, waitUntilCached } from "../support/proxy-project";
import { OCI_MANIFEST, RegistryClient, type PushedImage } from "../support/registry-client";
import { copy, inspect, type InspectResult } from "../support/skopeo";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** A Berth with a proxy project `hub` in front of a fresh docker-registry. */
async function proxySetup(ttlSeconds: number) {
  const [berth, upstream] = await Promise.all([startBerth({ env: { ...RECEIVERS_ON_LOOPBACK, BERTH_PROXY_CACHE_TTL_SECONDS: String(ttlSeconds) } }), startReferenceRegistry()]);
  const admin = new RegistryClient(berth.url);
  const registryId = await createProxyProject(admin, "hub", upstream.url, { public: true });
  return { berth, upstream, admin, remote: new RegistryClient(upstream.url, null), registryId };
}

/** Pulls an image's manifest and blobs as a client would; returns the manifest digest. */
async function pullImage(client: RegistryClient, repository: string, reference: string, image: PushedImage): Promise<string | null> {
  const response = await client.fetch(`/v2/${repository}/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
  if (response.status !== 200) return null;
  await response.arrayBuffer();
  expect(await client.pulledDigest(repository, image.configDigest)).toBe(image.configDigest);
  expect(await client.pulledDigest(repository, image.layerDigest)).toBe(image.layerDigest);
  return response.headers.get("docker-content-digest");
}

/** Waits until the cache holds `repository:tag`. */
const cached = (admin: RegistryClient, repository: string, tag: string) => waitUntilCached(admin, "hub", repository, tag);

describeWithTool("docker-registry", "proxy cache projects", () => {
  describe("with a long TTL", () => {
    let setup: Awaited<ReturnType<typeof proxySetup>>;
    let nginx: PushedImage;

    beforeAll(async () => {
      setup = await proxySetup(3600);
      nginx = await setup.remote.pushImage("library/nginx", "1.25", "nginx-1.25");
    });
    afterAll(async () => {
      await Promise.all([setup?.berth.close(), setup?.upstream.stop()]);
    });

    it("fetches on first pull, streaming the blobs, and then serves from the cache while the upstream is down", async () => {
      const anonymous = new RegistryClient(setup.berth.url, null);
      expect(await pullImage(anonymous, "hub/library/nginx", "1.25", nginx)).toBe(nginx.manifestDigest);
      await cached(setup.admin, "library/nginx", "1.25");

      await setup.upstream.halt();
      try {
        expect(await pullImage(anonymous, "hub/library/nginx", "1.25", nginx)).toBe(nginx.manifestDigest);
        expect(await pullImage(anonymous, "hub/library/nginx", nginx.manifestDigest, nginx)).toBe(nginx.manifestDigest);
        // Never pulled before: nothing to serve, and the answer says why.
        const missing = await anonymous.fetch("/v2/hub/library/redis/manifests/7", { headers: { Accept: OCI_MANIFEST } });
        expect(missing.status).toBe(503);
        const body = (await missing.json()) as { errors: { code: string; message: string }[] };
        expect(body.errors[0].code).toBe("UNAVAILABLE");
        // The status, not the upstream's words (an anonymous puller reads this): those go to the log.
        expect(body.errors[0].message).toBe("hub/library/redis: the upstream registry failed and nothing is cached: the remote registry could not be reached");
      } finally {
        await setup.upstream.resume();
      }
    });

    it("queues a scan of what it caches when the project asks for auto_scan", async () => {
      expect((await setup.admin.fetch("/api/v2.0/projects/hub", json("PUT", { metadata: { auto_scan: "true" } }))).status).toBe(200);
      const busybox = await setup.remote.pushImage("library/busybox", "1", "busybox-1");
      expect(await pullImage(new RegistryClient(setup.berth.url, null), "hub/library/busybox", "1", busybox)).toBe(busybox.manifestDigest);
      await cached(setup.admin, "library/busybox", "1");
      const overview = async () => {
        const response = await setup.admin.fetch(`/api/v2.0/projects/hub/repositories/library%252Fbusybox/artifacts/1?with_scan_overview=true`);
        return ((await response.json()) as { scan_overview?: Record<string, { scan_status: string }> }).scan_overview;
      };
      // The test image's layer is random bytes, not a tar: the scan runs and fails, which is what shows it was queued.
      await waitUntil(async () => ["Success", "Error"].includes(Object.values((await overview()) ?? {})[0]?.scan_status ?? ""), "the cached image is scanned");
      expect((await setup.admin.fetch("/api/v2.0/projects/hub", json("PUT", { metadata: { auto_scan: "false" } }))).status).toBe(200);
    });

    it("keeps serving a cached tag within the TTL even when the upstream moved it", async () => {
      const moved = await setup.remote.pushImage("library/nginx", "1.25", "nginx-1.25-rebuilt");
      expect(moved.manifestDigest).not.toBe(nginx.manifestDigest);
      expect(await setup.admin.digestOf("hub/library/nginx", "1.25")).toBe(nginx.manifestDigest);
    });

    it("answers 404 for what the upstream does not have, and refuses pushes", async () => {
      const response = await setup.admin.fetch("/v2/hub/library/none/manifests/latest", { headers: { Accept: OCI_MANIFEST } });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { errors: { code: string }[] }).errors[0].code).toBe("MANIFEST_UNKNOWN");
      const push = await setup.admin.fetch("/v2/hub/library/mine/blobs/uploads/", { method: "POST" });
      expect(push.status).toBe(403);
      expect(await push.json()).toEqual({ errors: [{ code: "DENIED", message: "can not push artifact to a proxy project" }] });
    });

    it("keeps the endpoint while a proxy project uses it", async () => {
      const refused = await setup.admin.fetch(`/api/v2.0/registries/${setup.registryId}`, { method: "DELETE" });
      expect(refused.status).toBe(412);
      expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/in use by project hub/);
    });
  });

  describe("with a TTL of 0", () => {
    let setup: Awaited<ReturnType<typeof proxySetup>>;

    beforeAll(async () => {
      setup = await proxySetup(0);
    });
    afterAll(async () => {
      await Promise.all([setup?.berth.close(), setup?.upstream.stop()]);
    });

    it("re-checks a tag with the upstream and follows it when it moves", async () => {
      const first = await setup.remote.pushImage("team/app", "stable", "app-1");
      expect(await pullImage(setup.admin, "hub/team/app", "stable", first)).toBe(first.manifestDigest);
      const second = await setup.remote.pushImage("team/app", "stable", "app-2");
      expect(await pullImage(setup.admin, "hub/team/app", "stable", second)).toBe(second.manifestDigest);
      await cached(setup.admin, "team/app", "stable");
      await waitUntil(async () => {
        const response = await setup.admin.fetch(`/api/v2.0/projects/hub/repositories/team%252Fapp/artifacts/stable`);
        return response.status === 200 && ((await response.json()) as { digest: string }).digest === second.manifestDigest;
      }, "the cache to hold the moved tag");
    });

    describeWithTool("skopeo", "with skopeo", () => {
      it("caches a multi-platform index with all its platforms and serves it with the upstream down", async () => {
        const amd = await setup.remote.pushImage("library/multi", "amd64", "multi-amd64");
        const arm = await setup.remote.pushImage("library/multi", "arm64", "multi-arm64");
        await setup.remote.pushIndex("library/multi", "1.0", [amd, arm]);
        const work = await mkdtemp(path.join(tmpdir(), "berth-proxy-"));
        try {
          const source = `docker://${setup.berth.host}/hub/library/multi:1.0`;
          await copy(source, `oci:${path.join(work, "first")}:1.0`, { srcCreds: ADMIN_CREDS, all: true });
          await cached(setup.admin, "library/multi", "1.0");
          await setup.upstream.halt();
          await copy(source, `oci:${path.join(work, "again")}:1.0`, { srcCreds: ADMIN_CREDS, all: true });
        } finally {
          await setup.upstream.resume();
          await rm(work, { recursive: true, force: true });
        }
      });

      it("lists a tag right after its first pull, so that `skopeo inspect` works without --no-tags", async () => {
        const image = await setup.remote.pushImage("library/fresh", "3.1", "fresh-3.1");
        const inspected = (await inspect(`docker://${setup.berth.host}/hub/library/fresh:3.1`, { creds: ADMIN_CREDS })) as InspectResult;
        expect(inspected.Digest).toBe(image.manifestDigest);
        expect(inspected.RepoTags).toEqual(["3.1"]);
      });
    });
  });
});
