import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { RemoteRegistry } from "../../replication/remote-registry";
import { CYCLONEDX_MEDIA_TYPE } from "./cyclonedx";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_CONFIG = { mediaType: "application/vnd.oci.empty.v1+json", content: Buffer.from("{}") };

function digestOf(content: Buffer): string {
  return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

/** The manifest an SBOM is pushed with: an OCI artifact whose subject is the image, found through the referrers API. */
export function sbomManifest(subject: { digest: string; mediaType: string; size: number }, document: Buffer, created: Date): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: CYCLONEDX_MEDIA_TYPE,
      config: { mediaType: EMPTY_CONFIG.mediaType, digest: digestOf(EMPTY_CONFIG.content), size: EMPTY_CONFIG.content.length },
      layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: digestOf(document), size: document.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { "org.opencontainers.image.created": created.toISOString() },
    }),
  );
}

/**
 * Stores a CycloneDX document as a referrer of the image `subject` in `repository`, through the registry's own /v2
 * (so quotas, events and audit apply as to any push), and removes the SBOM it replaces. Returns the new digest.
 */
export async function pushSbomReferrer(
  registry: RemoteRegistry,
  repository: string,
  subject: { digest: string; mediaType: string; size: number },
  document: string,
  replaces: string | null,
): Promise<string> {
  const bytes = Buffer.from(document);
  for (const blob of [EMPTY_CONFIG.content, bytes]) await registry.pushBlob(repository, digestOf(blob), blob.length, async () => Readable.from([blob]));
  const manifest = sbomManifest(subject, bytes, new Date());
  const digest = digestOf(manifest);
  await registry.putManifest(repository, digest, { digest, mediaType: OCI_MANIFEST, content: manifest });
  if (replaces && replaces !== digest) await registry.deleteManifest(repository, replaces);
  return digest;
}
