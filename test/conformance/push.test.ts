/**
 * The "Push" workflow of the OCI conformance suite (distribution-spec v1.1.1, conformance/02_push_test.go),
 * one test per check, named as the suite names them. The checks run in order and share state, as in the suite:
 * `lastResponse` carries an upload session (or a mount result) from one check to the next.
 */
import { AUTH_MODE, CROSSMOUNT_NAMESPACE, NAMESPACE, useBerth, type RegistryClient, type RegistryResponse } from "./client";
import {
  chunkedBlob,
  configs,
  dummyDigest,
  emptyLayerManifest,
  emptyLayerTestTag,
  layerBlob,
  manifests,
  MEDIA,
  nonexistentManifest,
  testBlobA,
  type TestBlob,
} from "./fixtures";

const OCTET_STREAM = { "Content-Type": "application/octet-stream" };
const OTHER_AUTH = AUTH_MODE === "basic" ? "token" : "basic";

/**
 * The suite's cross-repository mount checks, into `namespace` with `client`. They run under both kinds of auth:
 * the suite's client authenticates with tokens (reggie), and there a mount answers 201 only when the challenge
 * also asks for pull on `from`; otherwise the token cannot cover it and the suite quietly skips the GET check.
 */
function crossMountChecks(client: () => RegistryClient, namespace: string) {
  let mountResponse: RegistryResponse | undefined;
  const mounted = () => {
    if (!mountResponse) throw new Error("the mount check left no response");
    return mountResponse;
  };

  it("Cross-mounting of a blob without the from argument should yield session id", async () => {
    const response = await client().startUpload(namespace, { query: { mount: dummyDigest } });
    expect(response.status).toBe(202);
    expect(response.location).not.toBe("");
  });

  it("POST request to mount another repository's blob should return 201 or 202", async () => {
    const response = await client().startUpload(namespace, {
      query: { mount: testBlobA.digest, from: NAMESPACE },
    });
    expect([201, 202]).toContain(response.status);
    mountResponse = response;
  });

  // The suite runs this check only when the mount above answered 201; Berth mounts readable blobs, so it
  // must have, and the check is made unconditional here.
  it("GET request to test digest within cross-mount namespace should return 200", async () => {
    expect(mounted().status).toBe(201);
    expect(mounted().location).toBe(`/v2/${namespace}/blobs/${testBlobA.digest}`);
    expect((await client().request("GET", mounted().location)).status).toBe(200);
  });

  // The suite checks this on the mount above when it answered 202 instead; as Berth answers 201 there, a
  // mount of a blob the source does not have is what produces the session here.
  it("Cross-mounting of nonexistent blob should yield session id", async () => {
    const response = await client().startUpload(namespace, { query: { mount: dummyDigest, from: NAMESPACE } });
    expect(response.status).toBe(202);
    expect(response.location.startsWith(`/v2/${namespace}/blobs/uploads/`)).toBe(true);
  });

  // "...and automatic content discovery enabled should return a 201" applies only to registries that look
  // for the blob in other repositories on their own (OCI_AUTOMATIC_CROSSMOUNT=true); Berth does not.
  it("Cross-mounting without from, and automatic content discovery disabled should return a 202", async () => {
    const response = await client().startUpload(namespace, { query: { mount: testBlobA.digest } });
    expect(response.status).toBe(202);
  });
}

describe("Push", () => {
  const registry = useBerth();
  let lastResponse: RegistryResponse | undefined;
  let prevResponse: RegistryResponse | undefined;
  let emptyLayerManifestRef = "";
  let chunked = chunkedBlob(42);

  const last = () => {
    if (!lastResponse) throw new Error("the previous check left no response");
    return lastResponse;
  };

  /** PUT that closes the session at `location` with `blob` as its only (or last) bytes. */
  const putBlob = (location: string, blob: TestBlob) =>
    registry().request("PUT", location, { query: { digest: blob.digest }, headers: OCTET_STREAM, body: blob.content });

  const patchChunk = (location: string, chunk: { content: Buffer; range: string }) =>
    registry().request("PATCH", location, {
      headers: { ...OCTET_STREAM, "Content-Range": chunk.range },
      body: chunk.content,
    });

  describe("Blob Upload Streamed", () => {
    it("PATCH request with blob in body should yield 202 response", async () => {
      const client = registry();
      const session = await client.startUpload();
      expect(session.location).not.toBe("");
      const response = await client.request("PATCH", session.location, { headers: OCTET_STREAM, body: testBlobA.content });
      expect(response.status).toBe(202);
      lastResponse = response;
    });

    it("PUT request to session URL with digest should yield 201 response", async () => {
      const response = await registry().request("PUT", last().location, { query: { digest: testBlobA.digest }, headers: OCTET_STREAM });
      expect(response.status).toBe(201);
      expect(response.location).not.toBe("");
    });
  });

  describe("Blob Upload Monolithic", () => {
    it("GET nonexistent blob should result in 404 response", async () => {
      const client = registry();
      expect((await client.request("GET", client.blobPath(dummyDigest))).status).toBe(404);
    });

    it("POST request with digest and blob should yield a 201 or 202", async () => {
      const client = registry();
      const response = await client.startUpload(NAMESPACE, {
        query: { digest: configs[1].digest },
        headers: OCTET_STREAM,
        body: configs[1].content,
      });
      expect(response.location).not.toBe("");
      expect([201, 202]).toContain(response.status);
      lastResponse = response;
    });

    it("GET request to blob URL from prior request should yield 200 or 404 based on response code", async () => {
      const client = registry();
      const response = await client.request("GET", client.blobPath(configs[1].digest));
      expect(response.status).toBe(last().status === 202 ? 404 : 200);
    });

    it("POST request should yield a session ID", async () => {
      const response = await registry().startUpload();
      expect(response.status).toBe(202);
      lastResponse = response;
    });

    it("PUT upload of a blob should yield a 201 Response", async () => {
      const response = await putBlob(last().location, configs[1]);
      expect(response.location).not.toBe("");
      expect(response.status).toBe(201);
    });

    it("GET request to existing blob should yield 200 response", async () => {
      const client = registry();
      expect((await client.request("GET", client.blobPath(configs[1].digest))).status).toBe(200);
    });

    it("PUT upload of a layer blob should yield a 201 Response", async () => {
      const session = await registry().startUpload();
      const response = await putBlob(session.location, layerBlob);
      expect(response.location).not.toBe("");
      expect(response.status).toBe(201);
    });

    it("GET request to existing layer should yield 200 response", async () => {
      const client = registry();
      expect((await client.request("GET", client.blobPath(layerBlob.digest))).status).toBe(200);
    });
  });

  describe("Blob Upload Chunked", () => {
    it("Out-of-order blob upload should return 416", async () => {
      const session = await registry().startUpload();
      expect(session.location).not.toBe("");
      // A registry may demand bigger chunks; the suite then rebuilds the blob so each half is big enough.
      const minLength = Number(session.headers.get("OCI-Chunk-Min-Length") ?? 0);
      if (minLength > chunked.chunk1.content.length) chunked = chunkedBlob(minLength * 2 - 2);
      const response = await patchChunk(session.location, chunked.chunk2);
      expect(response.status).toBe(416);
    });

    it("PATCH request with first chunk should return 202", async () => {
      const session = await registry().startUpload();
      expect(session.location).not.toBe("");
      prevResponse = session;
      const response = await patchChunk(session.location, chunked.chunk1);
      expect(response.status).toBe(202);
      expect(response.headers.get("Range")).toBe(chunked.chunk1.range);
      lastResponse = response;
    });

    it("Retry previous blob chunk should return 416", async () => {
      const response = await patchChunk(prevResponse!.location, chunked.chunk1);
      expect(response.status).toBe(416);
    });

    it("Get on stale blob upload should return 204 with a range and location", async () => {
      const response = await registry().request("GET", prevResponse!.location);
      expect(response.status).toBe(204);
      expect(response.location).not.toBe("");
      expect(response.headers.get("Range")).toBe(chunked.chunk1.range);
      lastResponse = response;
    });

    it("PATCH request with second chunk should return 202", async () => {
      const response = await patchChunk(last().location, chunked.chunk2);
      expect(response.status).toBe(202);
      expect(response.location).not.toBe("");
      lastResponse = response;
    });

    it("PUT request with digest should return 201", async () => {
      const response = await registry().request("PUT", last().location, {
        query: { digest: chunked.blob.digest },
        headers: OCTET_STREAM,
      });
      expect(response.status).toBe(201);
      expect(response.location).not.toBe("");
    });
  });

  describe("Cross-Repository Blob Mount", () => crossMountChecks(registry, CROSSMOUNT_NAMESPACE));
  describe(`Cross-Repository Blob Mount (${OTHER_AUTH} auth)`, () =>
    crossMountChecks(() => registry().withAuth(OTHER_AUTH), `${CROSSMOUNT_NAMESPACE}-${OTHER_AUTH}`),
  );

  describe("Manifest Upload", () => {
    it("GET nonexistent manifest should return 404", async () => {
      const client = registry();
      expect((await client.request("GET", client.manifestPath(nonexistentManifest))).status).toBe(404);
    });

    it("PUT should accept a manifest upload", async () => {
      for (const tag of ["test0", "test1", "test2", "test3"]) {
        const response = await registry().pushManifest(tag, manifests[1]);
        expect(response.location).not.toBe("");
        expect(response.status).toBe(201);
      }
    });

    // The suite only warns when a registry refuses this; Berth must accept it.
    it("Registry should accept a manifest upload with no layers", async () => {
      const response = await registry().pushManifest(emptyLayerTestTag, emptyLayerManifest, MEDIA.manifest);
      expect(response.status).toBe(201);
      expect(response.location).not.toBe("");
      emptyLayerManifestRef = response.location;
    });

    it("GET request to manifest URL (digest) should yield 200 response", async () => {
      const client = registry();
      const response = await client.request("GET", client.manifestPath(manifests[1].digest), { headers: { Accept: MEDIA.manifest } });
      expect(response.status).toBe(200);
    });
  });

  describe("Teardown", () => {
    it("Delete manifest created in tests", async () => {
      const client = registry();
      expect(["2xx", 405]).toContain((await client.deleteManifest(manifests[1].digest)).outcome);
      if (emptyLayerManifestRef !== "") {
        expect(["2xx", 405]).toContain((await client.deleteManifest(emptyLayerManifest.digest)).outcome);
      }
    });

    it("Delete config blob created in tests", async () => {
      expect(["2xx", 404, 405]).toContain((await registry().deleteBlob(configs[1].digest)).outcome);
    });

    it("Delete layer blob created in setup", async () => {
      expect(["2xx", 404, 405]).toContain((await registry().deleteBlob(layerBlob.digest)).outcome);
    });
  });
});
