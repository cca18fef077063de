/**
 * The content the OCI conformance suite (distribution-spec v1.1.1, conformance/setup.go) pushes, rebuilt
 * deterministically: the suite randomises config authors and blob bytes so that reruns against a long-lived
 * registry never collide, but every test file here gets a fresh Berth, so fixed seeds are enough.
 *
 * Documents are serialised the way the suite's Go structs marshal (tab indent, `omitempty` fields left out,
 * the unspecified `newUnspecifiedField` on every descriptor), because part of what the suite checks is that a
 * registry stores and serves manifests carrying fields it does not know.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

export const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  empty: "application/vnd.oci.empty.v1+json",
} as const;

export interface TestBlob {
  content: Buffer;
  digest: string;
  length: number;
}

export function testBlob(content: Buffer | string): TestBlob {
  const bytes = Buffer.from(content);
  return { content: bytes, digest: sha256(bytes), length: bytes.length };
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Reproducible pseudo-random bytes: sha256 in counter mode over a seed. */
export function seededBytes(size: number, seed: string): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * 32 < size; counter++) {
    blocks.push(createHash("sha256").update(`${seed}/${counter}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, size);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  data?: string;
  artifactType?: string;
  newUnspecifiedField: string | null;
}

/** A descriptor of `blob`; `inline` embeds its bytes as `data`, as the suite does for image configs. */
function descriptorOf(mediaType: string, blob: TestBlob, options: { inline?: boolean } = {}): Descriptor {
  if (!options.inline) return { mediaType, digest: blob.digest, size: blob.length, newUnspecifiedField: null };
  return {
    mediaType,
    digest: blob.digest,
    size: blob.length,
    data: blob.content.toString("base64"),
    newUnspecifiedField: Buffer.from("hello world").toString("base64"),
  };
}

function serialise(document: object): TestBlob {
  return testBlob(JSON.stringify(document, null, "\t"));
}

/** A one-file ustar archive: the layer is a real gzipped tarball, as an image layer would be. */
function tarball(fileName: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, "ascii");
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0");
  field(0, 100, fileName);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(body.length, 12));
  field(136, 12, octal(0, 12));
  field(156, 1, "0");
  field(257, 8, "ustar\u000000");
  // The checksum is computed with its own field read as spaces.
  header.fill(" ", 148, 156);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  field(148, 8, `${octal(checksum, 7)}\u0000`);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

// --- blobs -------------------------------------------------------------------------------------------------

export const layerBlob = testBlob(gzipSync(tarball("test.txt", "a layer pushed by the Berth conformance tests\n")));

/**
 * One image config per suite index. The suite gives each workflow its own index so workflows sharing a
 * namespace never step on each other: 0-1 pull, 1 push, 2 discovery (tags), 3 management (and, never pushed
 * in discovery, the subject of an orphan referrer), 4 the discovery referrers' subject.
 */
export const configs: TestBlob[] = [0, 1, 2, 3, 4].map((i) =>
  serialise({
    author: `berth-conformance-${i}`,
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
  }),
);

/** The image manifest of each config, each with the one test layer. */
export const manifests: TestBlob[] = configs.map((config) =>
  serialise({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: descriptorOf(MEDIA.config, config, { inline: true }),
    layers: [descriptorOf(MEDIA.layer, layerBlob)],
  }),
);

/** An image manifest without layers (and without `mediaType`, which is optional), over configs[1]. */
export const emptyLayerManifest = serialise({
  schemaVersion: 2,
  config: descriptorOf(MEDIA.config, configs[1], { inline: true }),
  layers: [],
});

/** The blob of the streamed upload and of the cross-repository mount. */
export const testBlobA = testBlob(seededBytes(42, "blob-a"));

/** The blob uploaded in two chunks, split one byte past the middle as the suite does. */
export function chunkedBlob(size: number) {
  const blob = testBlob(seededBytes(size, "blob-b"));
  const split = Math.floor(size / 2) + 1;
  return {
    blob,
    chunk1: { content: blob.content.subarray(0, split), range: `0-${split - 1}` },
    chunk2: { content: blob.content.subarray(split), range: `${split}-${size - 1}` },
  };
}

// --- references --------------------------------------------------------------------------------------------

export const emptyJsonBlob = testBlob("{}");
const emptyJson = descriptorOf(MEDIA.empty, emptyJsonBlob);

export const refBlobA = testBlob("bagel with cream cheese, artifact A");
export const refBlobB = testBlob("croissant with apricot jam, artifact B");
export const artifactTypeA = "application/vnd.berth.conformance.type-a";
export const artifactTypeB = "application/vnd.berth.conformance.type-b";
export const artifactTypeIndex = "application/vnd.berth.conformance.index";

export const ANNOTATION_KEY = "org.opencontainers.conformance.test";

const subjectOf = (manifest: TestBlob) => descriptorOf(MEDIA.manifest, manifest);

export interface Referrer extends TestBlob {
  /** The value of ANNOTATION_KEY, or null for the referrer without annotations. */
  annotation: string | null;
}

function referrer(document: Record<string, unknown>, annotation: string | null): Referrer {
  const withAnnotations = annotation === null ? document : { ...document, annotations: { [ANNOTATION_KEY]: annotation } };
  return { ...serialise(withAnnotations), annotation };
}

/** An artifact whose type is its config's media type (the pre-1.1 convention). */
function configArtifact(type: string, blob: TestBlob, subject: TestBlob, annotation: string): Referrer {
  return referrer(
    { schemaVersion: 2, mediaType: MEDIA.manifest, config: descriptorOf(type, blob), layers: [emptyJson], subject: subjectOf(subject) },
    annotation,
  );
}

/** An artifact with `artifactType` set and the empty config (the 1.1 convention). */
function layerArtifact(type: string, blob: TestBlob, subject: TestBlob, annotation: string | null): Referrer {
  return referrer(
    {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      artifactType: type,
      config: emptyJson,
      layers: [descriptorOf(type, blob)],
      subject: subjectOf(subject),
    },
    annotation,
  );
}

export const refsManifestAConfigArtifact = configArtifact(artifactTypeA, refBlobA, manifests[4], "test config a");
export const refsManifestALayerArtifact = layerArtifact(artifactTypeA, refBlobA, manifests[4], "test layer a");
export const refsManifestBConfigArtifact = configArtifact(artifactTypeB, refBlobB, manifests[4], "test config b");
export const refsManifestBLayerArtifact = layerArtifact(artifactTypeB, refBlobB, manifests[4], "test layer b");
/** Like B's layer artifact, but its subject (manifests[3]) is never pushed in the discovery workflow. */
export const refsManifestCLayerArtifact = layerArtifact(artifactTypeB, refBlobB, manifests[3], null);

/** An index artifact over the two A artifacts, itself a referrer of manifests[4]. */
export const refsIndexArtifact = referrer(
  {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    artifactType: artifactTypeIndex,
    manifests: [subjectOf(refsManifestAConfigArtifact), subjectOf(refsManifestALayerArtifact)],
    subject: subjectOf(manifests[4]),
  },
  "test index",
);

// --- references the suite only names ---------------------------------------------------------------------

export const testTagName = "tagtest0";
export const emptyLayerTestTag = "emptylayer";
/** Not a valid tag (it starts with a dot), so no manifest can ever have it. */
export const nonexistentManifest = ".INVALID_MANIFEST_NAME";
export const invalidManifestContent = Buffer.from("blablabla");
/** A well-formed digest of content no test pushes. */
export const dummyDigest = sha256("hello world");
