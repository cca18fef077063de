/**
 * The "Content Discovery" workflow of the OCI conformance suite (distribution-spec v1.1.1,
 * conformance/03_discovery_test.go): tag listing with `n`/`last`, and the referrers API with `OCI-Subject`
 * and `artifactType` filtering. One test per check, named as the suite names them, run in order.
 */
import { useBerth, type RegistryResponse } from "./client";
import {
  ANNOTATION_KEY,
  artifactTypeA,
  configs,
  dummyDigest,
  emptyJsonBlob,
  layerBlob,
  manifests,
  MEDIA,
  refBlobA,
  refBlobB,
  refsIndexArtifact,
  refsManifestAConfigArtifact,
  refsManifestALayerArtifact,
  refsManifestBConfigArtifact,
  refsManifestBLayerArtifact,
  refsManifestCLayerArtifact,
  testTagName,
  type Referrer,
  type TestBlob,
} from "./fixtures";

interface ReferrersIndex {
  mediaType?: string;
  manifests: { digest: string; mediaType: string; artifactType?: string; annotations?: Record<string, string> }[];
}

/** The referrers of manifests[4] that carry the test annotation, by digest. */
const ANNOTATED_REFERRERS: Referrer[] = [
  refsManifestAConfigArtifact,
  refsManifestALayerArtifact,
  refsIndexArtifact,
  refsManifestBConfigArtifact,
  refsManifestBLayerArtifact,
];
const annotationOf = new Map(ANNOTATED_REFERRERS.map((r) => [r.digest, r.annotation]));

const SUCCESS_OR_GONE = ["2xx", 404, 405];

describe("Content Discovery", () => {
  const registry = useBerth();
  let tagList: string[] = [];
  let numTags = 4;

  const expectPushed = (response: RegistryResponse) => expect(response.outcome).toBe("2xx");

  /** Pushes a referrer by digest and checks that the registry says it processed its subject. */
  async function pushReferrer(referrer: TestBlob, subject: TestBlob, mediaType: string = MEDIA.manifest) {
    const response = await registry().pushManifest(referrer.digest, referrer, mediaType);
    expectPushed(response);
    expect(response.headers.get("OCI-Subject")).toBe(subject.digest);
  }

  async function referrersOf(subject: string, query: Record<string, string> = {}) {
    const client = registry();
    const response = await client.request("GET", client.referrersPath(subject), { query });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe(MEDIA.index);
    return { response, index: response.json<ReferrersIndex>() };
  }

  function expectTestAnnotations(index: ReferrersIndex) {
    for (const descriptor of index.manifests) {
      expect(Object.keys(descriptor.annotations ?? {})).toHaveLength(1);
      expect(descriptor.annotations?.[ANNOTATION_KEY]).toBe(annotationOf.get(descriptor.digest));
    }
  }

  describe("Setup", () => {
    it("Populate registry with test blob", async () => {
      expectPushed(await registry().pushBlob(configs[2]));
    });

    it("Populate registry with test layer", async () => {
      expectPushed(await registry().pushBlob(layerBlob));
    });

    it("Populate registry with test tags", async () => {
      for (let i = 0; i < numTags; i++) expectPushed(await registry().pushManifest(`test${i}`, manifests[2]));
      tagList = (await registry().tagList()).tags;
    });

    // "Populate registry with test tags (no push)" reads OCI_TAG_LIST when the suite runs against a
    // pre-populated registry; here setup always pushes.

    // Referrers are pushed both before their subject (manifests[4]) exists and after, and one refers to a
    // subject that is never pushed: a registry must accept all of them and answer OCI-Subject.
    it("References setup", async () => {
      const client = registry();
      // The empty JSON blob has a well-known digest that clients hard-code.
      expect(emptyJsonBlob.digest).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
      expectPushed(await client.pushBlob(emptyJsonBlob));
      expectPushed(await client.pushBlob(refBlobA));
      await pushReferrer(refsManifestAConfigArtifact, manifests[4]);
      await pushReferrer(refsManifestALayerArtifact, manifests[4]);
      await pushReferrer(refsIndexArtifact, manifests[4], MEDIA.index);

      expectPushed(await client.pushBlob(configs[4]));
      expectPushed(await client.pushBlob(layerBlob));
      expectPushed(await client.pushManifest(testTagName, manifests[4]));

      expectPushed(await client.pushBlob(refBlobB));
      await pushReferrer(refsManifestBConfigArtifact, manifests[4]);
      await pushReferrer(refsManifestBLayerArtifact, manifests[4]);
      await pushReferrer(refsManifestCLayerArtifact, manifests[3]);
    });
  });

  describe("Test content discovery endpoints (listing tags)", () => {
    it("GET request to list tags should yield 200 response", async () => {
      const { response, tags } = await registry().tagList();
      expect(response.status).toBe(200);
      tagList = tags;
      numTags = tags.length;
      expect(tags).toEqual(expect.arrayContaining(["test0", "test1", "test2", "test3", testTagName]));
    });

    it("GET number of tags should be limitable by `n` query parameter", async () => {
      const numResults = Math.floor(numTags / 2);
      const { response, tags } = await registry().tagList({ n: String(numResults) });
      expect(response.status).toBe(200);
      expect(tags).toHaveLength(numResults);
    });

    // The suite's own assertions here only re-read the first page; this also checks what `last` means: the
    // page continues the full list right after `last`, which it does not repeat.
    it("GET start of tag is set by `last` query parameter", async () => {
      const numResults = Math.floor(numTags / 2);
      const firstPage = (await registry().tagList({ n: String(numResults) })).tags;
      const lastTag = firstPage[numResults - 1];
      const { response, tags } = await registry().tagList({ n: String(numResults), last: lastTag });
      expect(response.status).toBe(200);
      expect(tags.length).toBeLessThanOrEqual(numResults);
      const start = tagList.indexOf(lastTag) + 1;
      expect(tags).toEqual(tagList.slice(start, start + numResults));
    });
  });

  describe("Test content discovery endpoints (listing references)", () => {
    it("GET request to nonexistent blob should result in empty 200 response", async () => {
      const { index } = await referrersOf(dummyDigest);
      expect(index.manifests).toHaveLength(0);
    });

    it("GET request to existing blob should yield 200", async () => {
      const { index } = await referrersOf(manifests[4].digest);
      expect(index.manifests).toHaveLength(5);
      expect(index.manifests[0].digest).not.toBe(index.manifests[1].digest);
      expectTestAnnotations(index);
    });

    it("GET request to existing blob with filter should yield 200", async () => {
      const { response, index } = await referrersOf(manifests[4].digest, { artifactType: artifactTypeA });
      // A registry may ignore the filter, but then must not claim it applied it.
      if (response.headers.get("OCI-Filters-Applied") !== null) {
        expect(index.manifests).toHaveLength(2);
        expect(response.headers.get("OCI-Filters-Applied")).toBe("artifactType");
        for (const descriptor of index.manifests) expect(descriptor.artifactType).toBe(artifactTypeA);
      } else {
        expect(index.manifests).toHaveLength(5);
      }
      expectTestAnnotations(index);
    });

    it("GET request to missing manifest should yield 200", async () => {
      const { index } = await referrersOf(manifests[3].digest);
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0].digest).toBe(refsManifestCLayerArtifact.digest);
    });
  });

  // The suite's default (OCI_DELETE_MANIFEST_BEFORE_BLOBS=true): manifests go first, then their blobs.
  describe("Teardown", () => {
    it("Delete created manifest & associated tags", async () => {
      const references = [
        refsIndexArtifact.digest,
        manifests[2].digest,
        manifests[4].digest,
        refsManifestAConfigArtifact.digest,
        refsManifestALayerArtifact.digest,
        testTagName,
        refsManifestBConfigArtifact.digest,
        refsManifestBLayerArtifact.digest,
        refsManifestCLayerArtifact.digest,
      ];
      for (const reference of references) {
        expect(SUCCESS_OR_GONE).toContain((await registry().deleteManifest(reference)).outcome);
      }
    });

    it("Delete config blob created in tests", async () => {
      expect(["2xx", 405]).toContain((await registry().deleteBlob(configs[2].digest)).outcome);
    });

    it("Delete layer blob created in setup", async () => {
      expect(["2xx", 405]).toContain((await registry().deleteBlob(layerBlob.digest)).outcome);
    });

    it("References teardown", async () => {
      const client = registry();
      const manifestsLeft = [
        refsIndexArtifact,
        refsManifestAConfigArtifact,
        refsManifestALayerArtifact,
        manifests[4],
        refsManifestBConfigArtifact,
        refsManifestBLayerArtifact,
      ];
      for (const manifest of manifestsLeft) {
        expect(SUCCESS_OR_GONE).toContain((await client.deleteManifest(manifest.digest)).outcome);
      }
      for (const blob of [configs[4], refBlobA, refBlobB, emptyJsonBlob]) {
        expect(SUCCESS_OR_GONE).toContain((await client.deleteBlob(blob.digest)).outcome);
      }
    });
  });
});
