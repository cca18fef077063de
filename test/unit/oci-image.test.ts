import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { extract, type Headers } from "tar-stream";
import {
  buildLayer,
  EMPTY_DESCRIPTOR,
  layerTar,
  OCI_MEDIA_TYPES,
  readBlob,
  REF_NAME_ANNOTATION,
  sha256Digest,
  writeArtifact,
  writeImage,
  writeIndex,
  type Descriptor,
} from "../support/oci-image";
import { copy, inspect } from "../support/skopeo";
import { describeWithTool } from "../support/tools";

let workDir: string;
let layoutDir: string;
/** Where skopeo copies to. */
let otherDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "berth-oci-image-"));
  layoutDir = path.join(workDir, "layout");
  otherDir = path.join(workDir, "copy");
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function tarHeaders(tar: Buffer): Promise<Array<Headers & { content: string }>> {
  const entries: Array<Headers & { content: string }> = [];
  const reader = extract();
  const done = (async () => {
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ ...entry.header, content: Buffer.concat(chunks).toString("utf8") });
    }
  })();
  reader.end(tar);
  await done;
  return entries;
}

async function readJson<T>(digest: string): Promise<T> {
  return JSON.parse((await readBlob(layoutDir, digest)).toString("utf8")) as T;
}

interface LayoutIndex {
  manifests: Descriptor[];
}

async function layoutIndex(): Promise<LayoutIndex> {
  return JSON.parse(await readFile(path.join(layoutDir, "index.json"), "utf8")) as LayoutIndex;
}

function taggedIn(index: LayoutIndex, tag: string): Descriptor[] {
  return index.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === tag);
}

describe("buildLayer", () => {
  it("gives identical bytes, digest and diff_id for the same files in any order", async () => {
    const first = await buildLayer({ "b.txt": "bee", "a/deep/file": Buffer.from([0, 1, 2]) });
    const second = await buildLayer({ "a/deep/file": Buffer.from([0, 1, 2]), "b.txt": "bee" });
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(second.digest).toBe(first.digest);
    expect(second.diffId).toBe(first.diffId);
  });

  it("reports the digest and size of the gzip'd bytes and the sha256 of the tar as diff_id", async () => {
    const layer = await buildLayer({ "hello.txt": "hello\n" });
    expect(layer.digest).toBe(`sha256:${createHash("sha256").update(layer.bytes).digest("hex")}`);
    expect(layer.size).toBe(layer.bytes.length);
    expect(layer.diffId).toBe(sha256Digest(layerTar(layer)));
    expect(layer.diffId).not.toBe(layer.digest);
  });

  it("writes sorted entries with parent directories, root ownership and a fixed mtime", async () => {
    const layer = await buildLayer({ "z.txt": "last", "etc/app/config": "x=1", "a.txt": "first" });
    const entries = await tarHeaders(layerTar(layer));
    expect(entries.map((entry) => [entry.name, entry.type])).toEqual([
      ["a.txt", "file"],
      ["etc", "directory"],
      ["etc/app", "directory"],
      ["etc/app/config", "file"],
      ["z.txt", "file"],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ uid: 0, gid: 0, mtime: new Date(0) });
    }
    expect(entries.find((entry) => entry.name === "etc/app/config")?.content).toBe("x=1");
  });

  it("rejects a path used both as a file and as a directory, in either order", async () => {
    await expect(buildLayer({ etc: "file", "etc/passwd": "root" })).rejects.toThrow(/etc is given twice or used as both/);
    await expect(buildLayer({ "etc/passwd": "root", etc: "file" })).rejects.toThrow(/etc is given twice or used as both/);
  });

  it("rejects two spellings of the same path", async () => {
    await expect(buildLayer({ "a.txt": "1", "/a.txt": "2" })).rejects.toThrow(/a.txt is given twice/);
  });
});

describe("writeImage", () => {
  it("writes a layout whose every blob is stored under its own sha256", async () => {
    await writeImage(layoutDir, { tag: "v1", layers: [await buildLayer({ "a.txt": "a" }), await buildLayer({ "b.txt": "b" })] });
    expect(JSON.parse(await readFile(path.join(layoutDir, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const names = await readdir(path.join(layoutDir, "blobs", "sha256"));
    expect(names).toHaveLength(4);
    for (const name of names) {
      const bytes = await readFile(path.join(layoutDir, "blobs", "sha256", name));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(name);
    }
  });

  it("tags the manifest in index.json with its digest and size, and links config and layers", async () => {
    const layers = [await buildLayer({ "a.txt": "a" }), await buildLayer({ "b.txt": "b" })];
    const image = await writeImage(layoutDir, {
      tag: "v1",
      layers,
      platform: { os: "linux", architecture: "arm64" },
      annotations: { "org.example": "yes" },
    });

    const [entry, ...others] = taggedIn(await layoutIndex(), "v1");
    expect(others).toEqual([]);
    const manifestBytes = await readBlob(layoutDir, image.manifestDigest);
    expect(entry).toMatchObject({ mediaType: OCI_MEDIA_TYPES.manifest, digest: image.manifestDigest, size: manifestBytes.length });

    const manifest = await readJson<{ config: Descriptor; layers: Descriptor[]; annotations: Record<string, string> }>(
      image.manifestDigest,
    );
    expect(manifest.config).toEqual({ mediaType: OCI_MEDIA_TYPES.config, digest: image.configDigest, size: expect.any(Number) });
    expect(manifest.layers.map((layer) => [layer.mediaType, layer.digest, layer.size])).toEqual(
      layers.map((layer) => [OCI_MEDIA_TYPES.layer, layer.digest, layer.size]),
    );
    expect(manifest.annotations).toEqual({ "org.example": "yes" });
    expect(image.layerDigests).toEqual(layers.map((layer) => layer.digest));

    const config = await readJson<{ os: string; architecture: string; rootfs: { diff_ids: string[] } }>(image.configDigest);
    expect(config).toMatchObject({ os: "linux", architecture: "arm64", rootfs: { diff_ids: layers.map((layer) => layer.diffId) } });
  });

  it("gives the same digests when written twice, and moves a re-used tag instead of duplicating it", async () => {
    const layer = await buildLayer({ "a.txt": "a" });
    const first = await writeImage(layoutDir, { tag: "v1", layers: [layer] });
    const again = await writeImage(layoutDir, { tag: "v1", layers: [layer] });
    const other = await writeImage(layoutDir, { tag: "v1", layers: [layer, await buildLayer({ "b.txt": "b" })] });
    await writeImage(layoutDir, { tag: "v2", layers: [layer] });

    expect(again).toEqual(first);
    const index = await layoutIndex();
    expect(taggedIn(index, "v1").map((entry) => entry.digest)).toEqual([other.manifestDigest]);
    expect(taggedIn(index, "v2").map((entry) => entry.digest)).toEqual([first.manifestDigest]);
  });
});

describe("writeIndex", () => {
  it("writes an index over one manifest per platform and tags only the index", async () => {
    const shared = await buildLayer({ "common.txt": "both" });
    const platforms = [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ];
    const images = [];
    for (const platform of platforms) {
      images.push({ platform, layers: [shared, await buildLayer({ "arch.txt": platform.architecture })] });
    }
    const written = await writeIndex(layoutDir, { tag: "multi", images });

    const index = await readJson<{ mediaType: string; manifests: Descriptor[] }>(written.indexDigest);
    expect(index.mediaType).toBe(OCI_MEDIA_TYPES.index);
    expect(index.manifests).toEqual(written.children.map((child, i) => ({ ...child.descriptor, platform: platforms[i] })));
    for (const [i, child] of written.children.entries()) {
      const config = await readJson<{ architecture: string }>(child.configDigest);
      expect(config.architecture).toBe(platforms[i]!.architecture);
    }

    const layout = await layoutIndex();
    expect(layout.manifests).toEqual([
      { ...written.descriptor, annotations: { [REF_NAME_ANNOTATION]: "multi" } },
    ]);
    expect(written.descriptor).toEqual({
      mediaType: OCI_MEDIA_TYPES.index,
      digest: written.indexDigest,
      size: (await readBlob(layoutDir, written.indexDigest)).length,
    });
  });
});

describe("writeArtifact", () => {
  it("writes an artifact manifest with artifactType, the empty config and a subject", async () => {
    const image = await writeImage(layoutDir, { tag: "v1", layers: [await buildLayer({ "a.txt": "a" })] });
    const artifact = await writeArtifact(layoutDir, {
      tag: "v1.sig",
      subject: image.descriptor,
      artifactType: "application/vnd.example.signature.v1",
      blobs: [{ mediaType: "application/vnd.example.signature.v1+json", content: '{"signed":true}' }],
    });

    const manifest = await readJson<Record<string, unknown>>(artifact.manifestDigest);
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: OCI_MEDIA_TYPES.manifest,
      artifactType: "application/vnd.example.signature.v1",
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: "application/vnd.example.signature.v1+json", digest: artifact.blobDigests[0], size: 15 }],
      subject: image.descriptor,
    });
    expect((await readBlob(layoutDir, EMPTY_DESCRIPTOR.digest)).toString()).toBe("{}");
    expect(EMPTY_DESCRIPTOR.digest).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    expect(taggedIn(await layoutIndex(), "v1.sig")).toEqual([
      { ...artifact.descriptor, annotations: { [REF_NAME_ANNOTATION]: "v1.sig" } },
    ]);
    expect(artifact.descriptor.artifactType).toBe("application/vnd.example.signature.v1");
  });

  it("uses the empty blob as the only layer when the artifact has no blobs", async () => {
    const image = await writeImage(layoutDir, { tag: "v1", layers: [await buildLayer({ "a.txt": "a" })] });
    const artifact = await writeArtifact(layoutDir, {
      tag: "marker",
      subject: image.descriptor,
      artifactType: "application/vnd.example.marker",
      blobs: [],
    });
    const manifest = await readJson<{ layers: Descriptor[] }>(artifact.manifestDigest);
    expect(manifest.layers).toEqual([EMPTY_DESCRIPTOR]);
    expect(artifact.blobDigests).toEqual([]);
  });
});

describeWithTool("skopeo", "OCI layouts read by skopeo", () => {
  it("inspects an image with the digest and layers that were written", async () => {
    const image = await writeImage(layoutDir, {
      tag: "v1",
      layers: [await buildLayer({ "a.txt": "a" }), await buildLayer({ "b/c.txt": "c" })],
    });
    const summary = await inspect(`oci:${layoutDir}:v1`);
    expect(summary.Digest).toBe(image.manifestDigest);
    expect(summary.Layers).toEqual(image.layerDigests);
    expect(sha256Digest(await inspect(`oci:${layoutDir}:v1`, { raw: true }))).toBe(image.manifestDigest);
    expect(sha256Digest(await inspect(`oci:${layoutDir}:v1`, { raw: true, config: true }))).toBe(image.configDigest);
  });

  it("copies an image between layouts without changing its manifest digest", async () => {
    const image = await writeImage(layoutDir, { tag: "v1", layers: [await buildLayer({ "a.txt": "a" })] });
    await copy(`oci:${layoutDir}:v1`, `oci:${otherDir}:copied`);
    expect(sha256Digest(await inspect(`oci:${otherDir}:copied`, { raw: true }))).toBe(image.manifestDigest);
  });

  it("copies an index with all its platforms", async () => {
    const written = await writeIndex(layoutDir, {
      tag: "multi",
      images: [
        { platform: { os: "linux", architecture: "amd64" }, layers: [await buildLayer({ "arch.txt": "amd64" })] },
        { platform: { os: "linux", architecture: "arm64" }, layers: [await buildLayer({ "arch.txt": "arm64" })] },
      ],
    });
    await copy(`oci:${layoutDir}:multi`, `oci:${otherDir}:multi`, { all: true });
    expect(sha256Digest(await inspect(`oci:${otherDir}:multi`, { raw: true }))).toBe(written.indexDigest);
    for (const child of written.children) {
      expect(sha256Digest(await readBlob(otherDir, child.manifestDigest))).toBe(child.manifestDigest);
      for (const layer of child.layerDigests) expect(sha256Digest(await readBlob(otherDir, layer))).toBe(layer);
    }
  });

  it("copies an artifact that refers to an image", async () => {
    const image = await writeImage(layoutDir, { tag: "v1", layers: [await buildLayer({ "a.txt": "a" })] });
    const artifact = await writeArtifact(layoutDir, {
      tag: "sbom",
      subject: image.descriptor,
      artifactType: "application/vnd.example.sbom",
      blobs: [{ mediaType: "application/spdx+json", content: '{"spdxVersion":"SPDX-2.3"}' }],
    });
    await copy(`oci:${layoutDir}:sbom`, `oci:${otherDir}:sbom`);
    expect(sha256Digest(await inspect(`oci:${otherDir}:sbom`, { raw: true }))).toBe(artifact.manifestDigest);
  });

  it("reports skopeo's stderr when it fails", async () => {
    await expect(inspect(`oci:${layoutDir}:missing`)).rejects.toThrow(/skopeo .*inspect.*failed \(exit 1\): .+/);
  });
});
