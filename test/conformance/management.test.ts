/**
 * The "Content Management" workflow of the OCI conformance suite (distribution-spec v1.1.1,
 * conformance/04_management_test.go): deleting a tag, a manifest and blobs, and the 404s that follow.
 * One test per check, named as the suite names them, run in order.
 *
 * The suite accepts "deletion is disallowed" answers (400 UNSUPPORTED, 405, a manifest still served after
 * its delete); Berth allows every delete, so where the suite offers a choice these tests expect Berth's.
 */
import { useBerth } from "./client";
import { configs, layerBlob, manifests, testTagName } from "./fixtures";

describe("Content Management", () => {
  const registry = useBerth();
  const tagToDelete = testTagName;
  let numTags = 0;

  describe("Setup", () => {
    it("Populate registry with test config blob", async () => {
      expect((await registry().pushBlob(configs[3])).outcome).toBe("2xx");
    });

    it("Populate registry with test layer", async () => {
      expect((await registry().pushBlob(layerBlob)).outcome).toBe("2xx");
    });

    it("Populate registry with test tag", async () => {
      expect((await registry().pushManifest(tagToDelete, manifests[3])).outcome).toBe("2xx");
    });

    it("Check how many tags there are before anything gets deleted", async () => {
      const { response, tags } = await registry().tagList();
      expect(response.status).toBe(200);
      numTags = tags.length;
      expect(tags).toContain(tagToDelete);
    });
  });

  describe("Manifest delete", () => {
    it("DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)", async () => {
      expect((await registry().deleteManifest(tagToDelete)).status).toBe(202);
    });

    // Deleting the tag left the manifest itself in place, so this delete finds it (the suite also allows 404).
    it("DELETE request to manifest (digest) should yield 202 response unless already deleted", async () => {
      expect((await registry().deleteManifest(manifests[3].digest)).status).toBe(202);
    });

    it("GET request to deleted manifest URL should yield 404 response, unless delete is disallowed", async () => {
      const client = registry();
      expect((await client.request("GET", client.manifestPath(manifests[3].digest))).status).toBe(404);
    });

    it("GET request to tags list should reflect manifest deletion", async () => {
      const { response, tags } = await registry().tagList();
      expect(response.status).toBe(200);
      expect(tags.length).toBeLessThan(numTags);
      expect(tags).not.toContain(tagToDelete);
    });
  });

  describe("Blob delete", () => {
    it("DELETE request to blob URL should yield 202 response", async () => {
      expect((await registry().deleteBlob(configs[3].digest)).status).toBe(202);
      expect((await registry().deleteBlob(layerBlob.digest)).status).toBe(202);
    });

    it("GET request to deleted blob URL should yield 404 response", async () => {
      const client = registry();
      expect((await client.request("GET", client.blobPath(configs[3].digest))).status).toBe(404);
    });
  });
});
