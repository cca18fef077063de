import type { FastifyInstance } from "fastify";
import type { ArtifactStore } from "../artifacts/artifact-store";
import { ImageConfigs, NotAnImageError } from "../artifacts/image-config";
import type { DistributionMetadata, StoredManifest } from "../distribution/metadata";
import { chartDependencies, ChartFileTooLargeError, HELM_CHART_CONFIG, HELM_CHART_LAYER, readChartFiles, type ChartFiles, type ChartLimits } from "../artifacts/helm-chart";
import { LayerTooLargeError } from "../scanning/layers/decompress";
import type { BlobStore } from "../storage/blob-store";
import { artifactLookup, type ArtifactParams } from "./artifact-lookup";
import { HarborError } from "./errors";
import type { ProjectAccessDeps } from "./project-access";

export interface ArtifactAdditionDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
  imageConfigs: ImageConfigs;
  store: BlobStore;
  chartLimits: ChartLimits;
}

/** Harbor's chart additions: the file they show and how it is served. */
const CHART_ADDITIONS = {
  "values.yaml": { type: "text/plain; charset=utf-8", content: (files: ChartFiles) => files.values ?? "" },
  "readme.md": { type: "text/markdown; charset=utf-8", content: (files: ChartFiles) => files.readme ?? "" },
  dependencies: { type: "application/json; charset=utf-8", content: (files: ChartFiles) => JSON.stringify(chartDependencies(files)) },
} as const;

/**
 * What an artifact page shows beyond the artifact itself, readable with `artifact-addition:read` (everyone who may
 * pull): Harbor's `build_history` addition, and Berth's `manifest` addition — the manifest exactly as /v2 serves it,
 * for clients (the web UI) that hold no /v2 credentials; for Helm charts stored as OCI artifacts, Harbor's
 * `values.yaml`, `readme.md` and `dependencies`, read from the chart's layer. The vulnerability report is in scans.ts.
 */
export function registerArtifactAdditionRoutes(app: FastifyInstance, deps: ArtifactAdditionDeps): void {
  const { artifactFor } = artifactLookup(deps);
  const additions = "/api/v2.0/projects/:nameOrId/repositories/:repo/artifacts/:reference/additions";

  async function storedManifest(request: Parameters<typeof artifactFor>[0]) {
    const { repository, artifact } = await artifactFor(request, "artifact-addition", "read");
    const manifest = await deps.metadata.manifestByDigest(repository.id, artifact.digest);
    if (!manifest) throw new HarborError("NOT_FOUND", `artifact ${repository.name}@${artifact.digest} not found`);
    return manifest;
  }

  // Harbor answers the config's history as is; an index or a non-image artifact has none (400, as Harbor).
  app.get<{ Params: ArtifactParams }>(`${additions}/build_history`, async (request) => {
    const manifest = await storedManifest(request);
    try {
      const config = await deps.imageConfigs.of(manifest);
      if (!config) throw new HarborError("NOT_FOUND", `the image config of ${manifest.digest} cannot be read`);
      return ImageConfigs.buildHistory(config);
    } catch (error) {
      if (error instanceof NotAnImageError) throw new HarborError("BAD_REQUEST", `addition build_history isn't supported for ${manifest.media_type}: ${error.message}`);
      throw error;
    }
  });

  for (const [name, addition] of Object.entries(CHART_ADDITIONS)) {
    app.get<{ Params: ArtifactParams }>(`${additions}/${name}`, async (request, reply) => {
      const files = await chartFilesOf(await storedManifest(request), name);
      try {
        return reply.type(addition.type).send(addition.content(files));
      } catch (error) {
        throw new HarborError("UNPROCESSABLE_ENTITY", `the chart's dependencies cannot be read: ${(error as Error).message.slice(0, 300)}`);
      }
    });
  }

  async function chartFilesOf(manifest: StoredManifest, addition: string): Promise<ChartFiles> {
    const layer = chartLayer(manifest);
    if (!layer) throw new HarborError("BAD_REQUEST", `addition ${addition} isn't supported for ${manifest.digest}: it is not a Helm chart`);
    const blob = await deps.store.read(layer);
    if (!blob) throw new HarborError("NOT_FOUND", `the chart layer ${layer} is not in the registry`);
    try {
      return await readChartFiles(blob, deps.chartLimits);
    } catch (error) {
      blob.destroy();
      if (error instanceof ChartFileTooLargeError) throw new HarborError("UNPROCESSABLE_ENTITY", error.message);
      if (error instanceof LayerTooLargeError) throw new HarborError("UNPROCESSABLE_ENTITY", `the chart decompresses to more than ${deps.chartLimits.maxBytes} bytes`);
      throw error;
    }
  }

  app.get<{ Params: ArtifactParams }>(`${additions}/manifest`, async (request, reply) => {
    const manifest = await storedManifest(request);
    return reply.type(manifest.media_type).header("Docker-Content-Digest", manifest.digest).send(manifest.content);
  });
}

/** The digest of a chart manifest's chart layer (config of Helm's media type), or null for anything else. */
function chartLayer(manifest: StoredManifest): string | null {
  try {
    const parsed = JSON.parse(manifest.content.toString("utf8")) as { config?: { mediaType?: unknown }; layers?: { mediaType?: unknown; digest?: unknown }[] };
    if (parsed.config?.mediaType !== HELM_CHART_CONFIG) return null;
    const layer = parsed.layers?.find((candidate) => candidate.mediaType === HELM_CHART_LAYER);
    return typeof layer?.digest === "string" ? layer.digest : null;
  } catch {
    return null;
  }
}
