/**
 * The "Pull" workflow of the OCI conformance suite (distribution-spec v1.1.1, conformance/01_pull_test.go),
 * one test per check, named as the suite names them. The checks run in order and share state, as in the suite.
 */
import { OCI_ERROR_CODES, useBerth } from "./client";
import { configs, dummyDigest, layerBlob, manifests, MEDIA, nonexistentManifest, testTagName } from "./fixtures";

const ACCEPT_MANIFEST = { Accept: MEDIA.manifest };

describe("Pull", () => {
  const registry = useBerth();
  // The suite reads the tag from OCI_TAG_NAME when it pulls from a pre-populated registry ("Get tag name from
  // environment"); here setup always pushes, so the tag is the one it pushed.
  const tag = testTagName;

  describe("Setup", () => {
    it("Populate registry with test blob (configs[0])", async () => {
      expect((await registry().pushBlob(configs[0])).outcome).toBe("2xx");
    });

    it("Populate registry with test blob (configs[1])", async () => {
      expect((await registry().pushBlob(configs[1])).outcome).toBe("2xx");
    });

    it("Populate registry with test layer", async () => {
      expect((await registry().pushBlob(layerBlob)).outcome).toBe("2xx");
    });

    it("Populate registry with test manifest (manifests[0], by tag)", async () => {
      expect((await registry().pushManifest(tag, manifests[0])).outcome).toBe("2xx");
    });

    it("Populate registry with test manifest (manifests[1], by digest)", async () => {
      expect((await registry().pushManifest(manifests[1].digest, manifests[1])).outcome).toBe("2xx");
    });
  });

  describe("Pull blobs", () => {
    it("HEAD request to nonexistent blob should result in 404 response", async () => {
      const client = registry();
      expect((await client.request("HEAD", client.blobPath(dummyDigest))).status).toBe(404);
    });

    it("HEAD request to existing blob should yield 200", async () => {
      const client = registry();
      const response = await client.request("HEAD", client.blobPath(configs[0].digest));
      expect(response.status).toBe(200);
      expect(response.headers.get("Docker-Content-Digest") ?? configs[0].digest).toBe(configs[0].digest);
    });

    it("GET nonexistent blob should result in 404 response", async () => {
      const client = registry();
      expect((await client.request("GET", client.blobPath(dummyDigest))).status).toBe(404);
    });

    it("GET request to existing blob URL should yield 200", async () => {
      const client = registry();
      const response = await client.request("GET", client.blobPath(configs[0].digest));
      expect(response.status).toBe(200);
      expect(response.body.equals(configs[0].content)).toBe(true);
    });
  });

  describe("Pull manifests", () => {
    it("HEAD request to nonexistent manifest should return 404", async () => {
      const client = registry();
      expect((await client.request("HEAD", client.manifestPath(nonexistentManifest))).status).toBe(404);
    });

    it.each([0, 1])("HEAD request to manifest[%i] path (digest) should yield 200 response", async (i) => {
      const client = registry();
      const response = await client.request("HEAD", client.manifestPath(manifests[i].digest), { headers: ACCEPT_MANIFEST });
      expect(response.status).toBe(200);
      expect(response.headers.get("Docker-Content-Digest") ?? manifests[i].digest).toBe(manifests[i].digest);
    });

    it("HEAD request to manifest path (tag) should yield 200 response", async () => {
      const client = registry();
      const response = await client.request("HEAD", client.manifestPath(tag), { headers: ACCEPT_MANIFEST });
      expect(response.status).toBe(200);
      expect(response.headers.get("Docker-Content-Digest") ?? manifests[0].digest).toBe(manifests[0].digest);
    });

    it("GET nonexistent manifest should return 404", async () => {
      const client = registry();
      expect((await client.request("GET", client.manifestPath(nonexistentManifest))).status).toBe(404);
    });

    it.each([0, 1])("GET request to manifest[%i] path (digest) should yield 200 response", async (i) => {
      const client = registry();
      const response = await client.request("GET", client.manifestPath(manifests[i].digest), { headers: ACCEPT_MANIFEST });
      expect(response.status).toBe(200);
      expect(response.body.equals(manifests[i].content)).toBe(true);
    });

    it("GET request to manifest path (tag) should yield 200 response", async () => {
      const client = registry();
      const response = await client.request("GET", client.manifestPath(tag), { headers: ACCEPT_MANIFEST });
      expect(response.status).toBe(200);
      expect(response.body.equals(manifests[0].content)).toBe(true);
    });
  });

  describe("Error codes", () => {
    it("400 response body should contain OCI-conforming JSON message", async () => {
      const client = registry();
      // The suite also attaches a junk body to this GET; fetch cannot send a body with GET, and a registry
      // must not read one anyway, so only the malformed digest reference is sent.
      const response = await client.request("GET", client.manifestPath("sha256:totallywrong"), {
        headers: { "Content-Type": MEDIA.manifest },
      });
      expect([400, 404]).toContain(response.status);
      if (response.status === 400) {
        const errors = response.errors();
        expect(errors.length).toBeGreaterThan(0);
        expect(OCI_ERROR_CODES).toContain(errors[0].code);
      }
    });
  });

  // The suite's default (OCI_DELETE_MANIFEST_BEFORE_BLOBS=true): manifests go first, then their blobs.
  describe("Teardown", () => {
    it.each([0, 1])("Delete manifest[%i] created in setup", async (i) => {
      expect(["2xx", 405]).toContain((await registry().deleteManifest(manifests[i].digest)).outcome);
    });

    it.each([0, 1])("Delete config[%i] blob created in setup", async (i) => {
      expect(["2xx", 404, 405]).toContain((await registry().deleteBlob(configs[i].digest)).outcome);
    });

    it("Delete layer blob created in setup", async () => {
      expect(["2xx", 404, 405]).toContain((await registry().deleteBlob(layerBlob.digest)).outcome);
    });
  });
});
