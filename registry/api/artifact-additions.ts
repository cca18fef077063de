import type { FastifyInstance } from "fastify";
import type { ArtifactStore } from "../artifacts/artifact-store";
import { ImageConfigs, NotAnImageError } from "../artifacts/image-config";
import type { DistributionMetadata } from "../distribution/metadata";
import { artifactLookup, type ArtifactParams } from "./artifact-lookup";
import { HarborError } from "./errors";
import type { ProjectAccessDeps } from "./project-access";

export interface ArtifactAdditionDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
  imageConfigs: ImageConfigs;
}

/**
 * What an artifact page shows beyond the artifact itself, readable with `artifact-addition:read` (everyone who may
 * pull): Harbor's `build_history` addition, and Berth's `manifest` addition — the manifest exactly as /v2 serves it,
 * for clients (the web UI) that hold no /v2 credentials. The vulnerability report is in scans.ts.
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

  app.get<{ Params: ArtifactParams }>(`${additions}/manifest`, async (request, reply) => {
    const manifest = await storedManifest(request);
    return reply.type(manifest.media_type).header("Docker-Content-Digest", manifest.digest).send(manifest.content);
  });
}
