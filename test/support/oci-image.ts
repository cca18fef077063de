/**
 * Deterministic OCI image layouts for tests: the on-disk format of skopeo's `oci:` transport
 * (`oci-layout`, `index.json`, `blobs/sha256/<hex>`).
 *
 * The same inputs always give the same bytes and digests, so tests can assert exact digests after a
 * round trip through a registry. Media types are spelled out here rather than imported from the registry
 * code, so a wrong constant in Berth cannot make the fixtures agree with it.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { pack, type Headers } from "tar-stream";

export const OCI_MEDIA_TYPES = {
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  config: "application/vnd.oci.image.config.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  empty: "application/vnd.oci.empty.v1+json",
} as const;

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** Paths inside the layer (relative, `/`-separated) mapped to file contents. */
export type LayerFiles = Record<string, string | Buffer>;

export interface Layer {
  /** The gzip'd tar, exactly as stored in the layout and pushed to a registry. */
  bytes: Buffer;
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar, as listed in the image config's rootfs.diff_ids. */
  diffId: string;
}

export interface WrittenImage {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  /** The manifest's descriptor: pass it as an artifact's subject or an index child. */
  descriptor: Descriptor;
}

export interface WrittenIndex {
  indexDigest: string;
  descriptor: Descriptor;
  /** One per platform, in the order given. */
  children: WrittenImage[];
}

export interface WrittenArtifact {
  manifestDigest: string;
  descriptor: Descriptor;
  blobDigests: string[];
}

export const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };

// Every entry carries this mtime so layer bytes never depend on when the test ran.
const EPOCH = new Date(0);
// The gzip header's OS byte comes from how zlib was compiled; pin it to "Unix" so digests match across hosts.
const GZIP_OS_BYTE_OFFSET = 9;
const GZIP_OS_UNIX = 3;

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Builds a gzip'd tar layer holding `files` (parent directories added), with fixed metadata and sorted entries. */
export async function buildLayer(files: LayerFiles): Promise<Layer> {
  const tar = await packTar(tarEntries(files));
  const bytes = gzipSync(tar, { level: 9 });
  bytes[GZIP_OS_BYTE_OFFSET] = GZIP_OS_UNIX;
  return { bytes, digest: sha256Digest(bytes), size: bytes.length, diffId: sha256Digest(tar) };
}

interface TarEntry {
  name: string;
  content?: Buffer;
}

/** Files plus every parent directory they need, sorted by path so parents always precede their children. */
function tarEntries(files: LayerFiles): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  // A path used both as a file and as a directory would make the result depend on insertion order.
  const conflict = (name: string) => new Error(`layer path ${name} is given twice or used as both a file and a directory`);
  for (const [rawPath, content] of Object.entries(files)) {
    const name = normaliseLayerPath(rawPath);
    const parts = name.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join("/");
      if (entries.get(dir)?.content !== undefined) throw conflict(dir);
      entries.set(dir, { name: dir });
    }
    if (entries.has(name)) throw conflict(name);
    entries.set(name, { name, content: Buffer.from(content) });
  }
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function normaliseLayerPath(rawPath: string): string {
  const name = path.posix.normalize(rawPath).replace(/^\/+/, "").replace(/\/+$/, "");
  if (name === "" || name === "." || name.startsWith("../")) throw new Error(`invalid layer path: ${rawPath}`);
  return name;
}

function packTar(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on("data", (chunk: Buffer) => chunks.push(chunk));
    archive.on("end", () => resolve(Buffer.concat(chunks)));
    archive.on("error", reject);
  });
  for (const entry of entries) {
    const common: Headers = { name: entry.name, mtime: EPOCH, uid: 0, gid: 0, uname: "", gname: "" };
    if (entry.content === undefined) archive.entry({ ...common, type: "directory", mode: 0o755 });
    else archive.entry({ ...common, type: "file", mode: 0o644, size: entry.content.length }, entry.content);
  }
  archive.finalize();
  return done;
}

// ---------------------------------------------------------------------------------------------------------------
// The layout on disk

function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return path.join(layoutDir, "blobs", algorithm!, hex!);
}

/** Stores `bytes` under their digest (idempotent: identical content maps to the same file). */
export async function writeBlob(layoutDir: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = sha256Digest(bytes);
  const file = blobPath(layoutDir, digest);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return { mediaType, digest, size: bytes.length };
}

// One at a time, so two equal blobs (a layer shared by two images) never write the same file concurrently.
async function writeBlobs(layoutDir: string, blobs: Array<{ mediaType: string; bytes: Buffer }>): Promise<Descriptor[]> {
  const descriptors: Descriptor[] = [];
  for (const blob of blobs) descriptors.push(await writeBlob(layoutDir, blob.mediaType, blob.bytes));
  return descriptors;
}

export function readBlob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(layoutDir, digest));
}

interface LayoutIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
  try {
    return JSON.parse(await readFile(path.join(layoutDir, "index.json"), "utf8")) as LayoutIndex;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return { schemaVersion: 2, mediaType: OCI_MEDIA_TYPES.index, manifests: [] };
  }
}

/** Points `tag` at `descriptor` in index.json, replacing whatever the tag named before. */
async function tagInLayout(layoutDir: string, tag: string, descriptor: Descriptor): Promise<void> {
  await mkdir(layoutDir, { recursive: true });
  await writeFile(path.join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = await readLayoutIndex(layoutDir);
  index.manifests = index.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== tag);
  index.manifests.push({ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: tag } });
  await writeFile(path.join(layoutDir, "index.json"), JSON.stringify(index));
}

function writeJsonBlob(layoutDir: string, mediaType: string, value: unknown): Promise<Descriptor> {
  return writeBlob(layoutDir, mediaType, Buffer.from(JSON.stringify(value)));
}

// ---------------------------------------------------------------------------------------------------------------
// Images, indexes and artifacts

export interface ImageSpec {
  layers: Layer[];
  platform?: Platform;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** The config's build history (`history`), as a builder records it. */
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean }>;
}

/** Writes config, layers and manifest blobs without tagging them (index children stay untagged). */
async function storeImage(layoutDir: string, spec: ImageSpec): Promise<WrittenImage> {
  const platform = spec.platform ?? DEFAULT_PLATFORM;
  const layers = await writeBlobs(
    layoutDir,
    spec.layers.map((layer) => ({ mediaType: OCI_MEDIA_TYPES.layer, bytes: layer.bytes })),
  );
  const config = await writeJsonBlob(layoutDir, OCI_MEDIA_TYPES.config, {
    created: EPOCH.toISOString(),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
    rootfs: { type: "layers", diff_ids: spec.layers.map((layer) => layer.diffId) },
    ...(spec.history ? { history: spec.history } : {}),
  });
  const manifest = await writeJsonBlob(layoutDir, OCI_MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    config,
    layers,
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
  return {
    manifestDigest: manifest.digest,
    configDigest: config.digest,
    layerDigests: layers.map((layer) => layer.digest),
    descriptor: manifest,
  };
}

/** Writes a single-platform image and tags it `tag` in the layout. */
export async function writeImage(layoutDir: string, spec: ImageSpec & { tag: string }): Promise<WrittenImage> {
  const image = await storeImage(layoutDir, spec);
  await tagInLayout(layoutDir, spec.tag, image.descriptor);
  return image;
}

export interface IndexSpec {
  tag: string;
  images: Array<{ platform: Platform; layers: Layer[] }>;
  annotations?: Record<string, string>;
}

/** Writes one image per platform and an image index over them, tagging only the index. */
export async function writeIndex(layoutDir: string, spec: IndexSpec): Promise<WrittenIndex> {
  const children: WrittenImage[] = [];
  for (const image of spec.images) children.push(await storeImage(layoutDir, image));
  const descriptor = await writeJsonBlob(layoutDir, OCI_MEDIA_TYPES.index, {
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.index,
    manifests: children.map((child, i) => ({ ...child.descriptor, platform: spec.images[i]!.platform })),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
  await tagInLayout(layoutDir, spec.tag, descriptor);
  return { indexDigest: descriptor.digest, descriptor, children };
}

/** The OCI "empty" blob `{}`, used as the config of artifacts that have none. */
export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: OCI_MEDIA_TYPES.empty, digest: sha256Digest("{}"), size: 2 };

export interface ArtifactSpec {
  tag: string;
  subject: Pick<Descriptor, "mediaType" | "digest" | "size">;
  artifactType: string;
  blobs: Array<{ mediaType: string; content: string | Buffer }>;
  annotations?: Record<string, string>;
}

/**
 * Writes an artifact (a signature, an SBOM, ...) that refers to `subject`: an image manifest with
 * `artifactType`, the empty config and a `subject`. With no blobs, the single layer is the empty blob,
 * as the image spec recommends.
 */
export async function writeArtifact(layoutDir: string, spec: ArtifactSpec): Promise<WrittenArtifact> {
  const config = await writeBlob(layoutDir, OCI_MEDIA_TYPES.empty, Buffer.from("{}"));
  const blobs = await writeBlobs(
    layoutDir,
    spec.blobs.map((blob) => ({ mediaType: blob.mediaType, bytes: Buffer.from(blob.content) })),
  );
  const manifest = await writeJsonBlob(layoutDir, OCI_MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    artifactType: spec.artifactType,
    config,
    layers: blobs.length > 0 ? blobs : [config],
    subject: { mediaType: spec.subject.mediaType, digest: spec.subject.digest, size: spec.subject.size },
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
  const descriptor = { ...manifest, artifactType: spec.artifactType };
  await tagInLayout(layoutDir, spec.tag, descriptor);
  return { manifestDigest: descriptor.digest, descriptor, blobDigests: blobs.map((blob) => blob.digest) };
}

/** Decompresses a layer, for tests that look inside it. */
export function layerTar(layer: Pick<Layer, "bytes">): Buffer {
  return gunzipSync(layer.bytes);
}
