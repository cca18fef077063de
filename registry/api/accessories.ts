import type { FastifyInstance } from "fastify";
import type { ArtifactStore } from "../artifacts/artifact-store";
import { accessoryType } from "../artifacts/accessory-types";
import type { DistributionMetadata } from "../distribution/metadata";
import { artifactLookup, type ArtifactParams } from "./artifact-lookup";
import { paging, queryString, setPageHeaders } from "./params";
import type { ProjectAccessDeps } from "./project-access";
import { parseQuery } from "./query";

export interface AccessoryRouteDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
}

/**
 * `…/artifacts/{reference}/accessories`: the artifact's referrers (signatures, SBOMs, any OCI 1.1 subject
 * reference) in Harbor's Accessory shape, filterable by `q=type=…` and paged (`accessory:list`, everyone who may pull).
 */
export function registerAccessoryRoutes(app: FastifyInstance, deps: AccessoryRouteDeps): void {
  const { artifactFor } = artifactLookup(deps);

  app.get<{ Params: ArtifactParams }>("/api/v2.0/projects/:nameOrId/repositories/:repo/artifacts/:reference/accessories", async (request, reply) => {
    const { repository, artifact } = await artifactFor(request, "accessory", "list");
    const { page, pageSize } = paging(request.query as Record<string, unknown>);
    const types = parseQuery(queryString(request.query, "q"), ["type"]).flatMap((term) =>
      term.kind === "exact" || term.kind === "fuzzy" ? [term.value] : term.kind === "any" ? term.values : [],
    );
    const accessories = (await deps.artifacts.accessories(repository.id, [artifact.digest]))
      .map((accessory) => ({ ...accessory, type: accessoryType(accessory) }))
      .filter((accessory) => types.length === 0 || types.includes(accessory.type));
    setPageHeaders(request, reply, { page, pageSize }, accessories.length);
    return accessories.slice((page - 1) * pageSize, page * pageSize).map((accessory) => ({
      id: accessory.id,
      artifact_id: accessory.id,
      subject_artifact_id: artifact.id,
      subject_artifact_digest: artifact.digest,
      subject_artifact_repo: repository.name,
      size: accessory.size,
      digest: accessory.digest,
      type: accessory.type,
      icon: "",
      creation_time: accessory.created_at,
    }));
  });
}
