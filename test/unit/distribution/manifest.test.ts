import { OciError } from "../../../registry/distribution/errors";
import { MEDIA_TYPES, parseManifest } from "../../../registry/distribution/manifest";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (c: string, mediaType = "application/vnd.oci.image.layer.v1.tar+gzip") => ({ mediaType, digest: D(c), size: 1 });
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as OciError).code;
  }
  return "none";
}

describe("parseManifest", () => {
  const image = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: descriptor("c", "application/vnd.oci.image.config.v1+json"),
    layers: [descriptor("a"), descriptor("b")],
  };

  it("lists the config and layers of an image manifest as blob references", () => {
    const parsed = parseManifest(body(image), MEDIA_TYPES.ociManifest);
    expect(parsed.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(parsed.references).toEqual([
      { digest: D("c"), kind: "blob" },
      { digest: D("a"), kind: "blob" },
      { digest: D("b"), kind: "blob" },
    ]);
    expect(parsed.artifactType).toBe("application/vnd.oci.image.config.v1+json");
  });

  it("lists the children of an index as manifest references", () => {
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [descriptor("d", MEDIA_TYPES.ociManifest)] };
    expect(parseManifest(body(index), MEDIA_TYPES.ociIndex).references).toEqual([{ digest: D("d"), kind: "manifest" }]);
  });

  it("takes the media type from Content-Type when the body omits it", () => {
    const { mediaType: _omitted, ...bare } = image;
    expect(parseManifest(body(bare), MEDIA_TYPES.dockerManifest).mediaType).toBe(MEDIA_TYPES.dockerManifest);
  });

  it("reports subject and artifactType of an artifact", () => {
    const artifact = { ...image, artifactType: "application/vnd.example.sbom", subject: descriptor("e", MEDIA_TYPES.ociManifest) };
    const parsed = parseManifest(body(artifact), MEDIA_TYPES.ociManifest);
    expect(parsed.subject?.digest).toBe(D("e"));
    expect(parsed.artifactType).toBe("application/vnd.example.sbom");
  });

  it("does not require foreign (non-distributable) layers to be present", () => {
    const windows = { ...image, layers: [descriptor("f", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")] };
    expect(parseManifest(body(windows), MEDIA_TYPES.ociManifest).references).toEqual([{ digest: D("c"), kind: "blob" }]);
  });

  it.each([
    ["invalid JSON", Buffer.from("{"), MEDIA_TYPES.ociManifest],
    ["a JSON array", body([]), MEDIA_TYPES.ociManifest],
    ["schemaVersion 1", body({ ...image, schemaVersion: 1 }), MEDIA_TYPES.ociManifest],
    ["an unknown media type", body({ ...image, mediaType: "text/plain" }), "text/plain"],
    ["a body media type that contradicts Content-Type", body(image), MEDIA_TYPES.dockerManifest],
    ["a missing config", body({ ...image, config: undefined }), MEDIA_TYPES.ociManifest],
    ["layers that are not an array", body({ ...image, layers: {} }), MEDIA_TYPES.ociManifest],
    ["a layer with a bad digest", body({ ...image, layers: [{ ...descriptor("a"), digest: "sha256:xyz" }] }), MEDIA_TYPES.ociManifest],
    ["a layer with a negative size", body({ ...image, layers: [{ ...descriptor("a"), size: -1 }] }), MEDIA_TYPES.ociManifest],
    ["non-string annotations", body({ ...image, annotations: { a: 1 } }), MEDIA_TYPES.ociManifest],
    ["an index without manifests", body({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex }), MEDIA_TYPES.ociIndex],
  ])("refuses %s with MANIFEST_INVALID", (_case, content, contentType) => {
    expect(codeOf(() => parseManifest(content, contentType))).toBe("MANIFEST_INVALID");
  });
});
