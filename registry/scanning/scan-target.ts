import type { DistributionMetadata } from "../distribution/metadata";
import { MEDIA_TYPES } from "../distribution/manifest";

/** Manifest and config media types of container images: what a vulnerability scanner can read (Harbor's take these). */
export const IMAGE_TYPES = {
  manifests: [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest],
  configs: ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"],
} as const;
const IMAGE_CONFIGS = new Set<string>(IMAGE_TYPES.configs);
const INDEXES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const IMAGES = new Set<string>(IMAGE_TYPES.manifests);

// Layers that live elsewhere by design (Windows base layers) are not in the registry to read.
const FOREIGN = /foreign|nondistributable/;

export interface LayerRef {
  digest: string;
  mediaType: string;
  size: number;
}

/** What a scan finds at a digest: an image with its layers, an index with its children, or something else. */
export type ScanTarget =
  | { kind: "image"; digest: string; mediaType: string; size: number; layers: LayerRef[] }
  | { kind: "index"; digest: string; mediaType: string; children: string[] }
  | { kind: "unsupported"; digest: string; mediaType: string; reason: string };

interface ManifestJson {
  mediaType?: string;
  config?: { mediaType?: string };
  layers?: Array<{ mediaType?: string; digest?: string; size?: number }>;
  manifests?: Array<{ mediaType?: string; digest?: string }>;
}

/** The manifest `digest` of `repository` read as a scan target; null when the repository does not hold it. */
export async function scanTarget(metadata: DistributionMetadata, repository: string, digest: string): Promise<ScanTarget | null> {
  const repositoryId = await metadata.repositoryId(repository);
  const stored = repositoryId === null ? null : await metadata.manifestByDigest(repositoryId, digest);
  if (!stored) return null;
  // The registry parsed and validated this manifest when it was pushed.
  return manifestTarget(digest, stored.media_type, stored.size, stored.content);
}

/**
 * A manifest's bytes read as a scan target (this registry's, or another's fetched by the adapter API). Content that
 * is not JSON is unsupported, not an error.
 */
export function manifestTarget(digest: string, mediaType: string, size: number, content: Buffer): ScanTarget {
  let manifest: ManifestJson;
  try {
    manifest = JSON.parse(content.toString("utf8")) as ManifestJson;
  } catch {
    return { kind: "unsupported", digest, mediaType, reason: "the manifest is not JSON" };
  }
  if (INDEXES.has(mediaType)) {
    return { kind: "index", digest, mediaType, children: (manifest.manifests ?? []).flatMap((child) => (child.digest ? [child.digest] : [])) };
  }
  if (!IMAGES.has(mediaType)) return { kind: "unsupported", digest, mediaType, reason: `${mediaType} is not an image manifest` };
  const config = manifest.config?.mediaType ?? "";
  if (!IMAGE_CONFIGS.has(config)) return { kind: "unsupported", digest, mediaType, reason: `artifacts of type ${config || "unknown"} are not container images` };
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : [])
    .filter((layer) => typeof layer.digest === "string" && !FOREIGN.test(layer.mediaType ?? ""))
    .map((layer) => ({ digest: layer.digest!, mediaType: layer.mediaType ?? "", size: layer.size ?? 0 }));
  return { kind: "image", digest, mediaType, size, layers };
}
