import type { FastifyInstance } from "fastify";
import type { ArtifactStore } from "../artifacts/artifact-store";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { DistributionMetadata } from "../distribution/metadata";
import type { Labels } from "../labels/labels";
import { artifactLookup, type ArtifactParams } from "./artifact-lookup";
import { HarborError } from "./errors";
import { positiveId } from "./labels";
import { jsonObjectBody } from "./params";
import type { ProjectAccessDeps } from "./project-access";

export interface ArtifactLabelRouteDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
  labels: Labels;
  audit: AuditLog;
}

/**
 * POST/DELETE /api/v2.0/projects/{p}/repositories/{r}/artifacts/{ref}/labels: Harbor's artifact labelling
 * (artifact-label:create/delete: developers and up). A label may be global or one of the artifact's own project;
 * another project's label is refused as if it did not exist there.
 */
export function registerArtifactLabelRoutes(app: FastifyInstance, deps: ArtifactLabelRouteDeps): void {
  const { labels } = deps;
  const { artifactFor } = artifactLookup(deps);
  const base = "/api/v2.0/projects/:nameOrId/repositories/:repo/artifacts/:reference/labels";

  async function usableLabel(projectId: number, value: unknown) {
    if (!Number.isInteger(value) || (value as number) < 1) throw new HarborError("BAD_REQUEST", "id must be a label id");
    const label = await labels.get(value as number);
    if (!label || (label.project_id !== null && label.project_id !== projectId)) {
      throw new HarborError("NOT_FOUND", `label ${String(value)} not found (a label must be global or of this project)`);
    }
    return label;
  }

  /** The label change as the audit log records it: an update of the artifact. */
  const entry = (projectId: number, repository: string, digest: string, description: string) =>
    ({ projectId, operation: "update", resourceType: "artifact", resource: `${repository}@${digest}`, description }) as const;

  app.post<{ Params: ArtifactParams }>(base, async (request, reply) => {
    const { project, repository, artifact } = await artifactFor(request, "artifact-label", "create");
    const label = await usableLabel(project.id, jsonObjectBody(request).id);
    const added = entry(project.id, repository.name, artifact.digest, `added label ${label.name}`);
    if (!(await deps.audit.change(actorOf(request), added, (tx) => labels.attach(repository.id, artifact.digest, label.id, tx)))) {
      throw new HarborError("CONFLICT", `${repository.name}@${artifact.digest} already carries label ${label.name}`);
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: ArtifactParams & { labelId: string } }>(`${base}/:labelId`, async (request, reply) => {
    const { project, repository, artifact } = await artifactFor(request, "artifact-label", "delete");
    const label = await usableLabel(project.id, positiveId(request.params.labelId, "label id"));
    const removed = entry(project.id, repository.name, artifact.digest, `removed label ${label.name}`);
    if (!(await deps.audit.change(actorOf(request), removed, (tx) => labels.detach(repository.id, artifact.digest, label.id, tx)))) {
      throw new HarborError("NOT_FOUND", `${repository.name}@${artifact.digest} does not carry label ${label.name}`);
    }
    return reply.code(200).send();
  });
}
