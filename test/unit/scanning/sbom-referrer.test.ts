import { createHash } from "node:crypto";
import { sbomManifest } from "../../../registry/scanning/sbom/referrer";

const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("the manifest an SBOM is stored with", () => {
  it("is an OCI artifact of type CycloneDX whose subject is the image, with the empty config and the document as its layer", () => {
    const document = Buffer.from('{"bomFormat":"CycloneDX"}');
    const subject = { digest: sha256("image"), mediaType: "application/vnd.oci.image.manifest.v1+json", size: 1234 };
    const manifest = JSON.parse(sbomManifest(subject, document, new Date("2026-12-07T00:00:00Z")).toString()) as Record<string, unknown>;
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.cyclonedx+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256("{}"), size: 2 },
      layers: [{ mediaType: "application/vnd.cyclonedx+json", digest: sha256(document), size: document.length }],
      subject,
      annotations: { "org.opencontainers.image.created": "2026-12-07T00:00:00.000Z" },
    });
  });
});
