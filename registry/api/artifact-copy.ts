import type { FastifyInstance } from "fastify";
import { ArtifactCopier, CopyConflictError, type ArtifactCopyDeps } from "../artifacts/artifact-copy";
import { actorOf } from "../audit/audit-log";
import { parseDigest } from "../distribution/digest";
import { isValidRepositoryName, isValidTag } from "../distribution/names";
import { ImmutableTagError } from "../policy/immutable-rules";
import { QuotaExceededError } from "../quotas/quotas";
import { artifactLookup, type RepoParams } from "./artifact-lookup";
import { HarborError } from "./errors";
import { projectFor, type ProjectAccessDeps } from "./project-access";
import { queryString } from "./params";
import type { ArtifactStore } from "../artifacts/artifact-store";
import type { ProjectRef } from "../projects/projects";
import { scanTarget } from "../scanning/scan-target";

export interface ArtifactCopyRouteDeps extends ProjectAccessDeps, ArtifactCopyDeps {
  artifacts: ArtifactStore;
  /**
   * The source project's pull policy (prevent_vul), as a pull of each copied image meets it. Harbor copies what its
   * pull policy would refuse; Berth does not, or a copy into a project without the policy would be a way around it.
   */
  pullPolicy?: (project: ProjectRef, repository: string, digest: string) => Promise<{ allowed: true } | { allowed: false; message: string }>;
}

/** Harbor's `from`: `project/repo:tag` or `project/repo@digest`. */
export function parseCopySource(from: string | undefined): { project: string; repository: string; reference: string } {
  const bad = () => new HarborError("BAD_REQUEST", `from must be <project>/<repository>:<tag> or <project>/<repository>@<digest>, not "${String(from).slice(0, 300)}"`);
  if (!from) throw bad();
  const at = from.indexOf("@");
  const colon = from.lastIndexOf(":");
  const [repository, reference] =
    at >= 0 ? [from.slice(0, at), from.slice(at + 1)] : colon > from.lastIndexOf("/") ? [from.slice(0, colon), from.slice(colon + 1)] : [from, ""];
  const valid = at >= 0 ? parseDigest(reference) !== null : isValidTag(reference);
  if (!valid || !isValidRepositoryName(repository) || !repository.includes("/")) throw bad();
  return { project: repository.slice(0, repository.indexOf("/")), repository, reference };
}

/**
 * `POST /projects/{p}/repositories/{r}/artifacts?from=…`: copies an artifact here from another repository (Harbor's
 * promotion). The caller needs `artifact:create` in the target project and pull in the source's (Harbor's checks);
 * 201 with the new artifact's Location.
 */
export function registerArtifactCopyRoutes(app: FastifyInstance, deps: ArtifactCopyRouteDeps): void {
  const copier = new ArtifactCopier(deps);
  const { artifactNamed } = artifactLookup(deps);

  app.post<{ Params: RepoParams }>("/api/v2.0/projects/:nameOrId/repositories/:repo/artifacts", async (request, reply) => {
    const target = await projectFor(deps, request, request.params.nameOrId, "artifact", "create");
    const from = parseCopySource(queryString(request.query, "from"));
    let targetName: string;
    try {
      targetName = `${target.name}/${decodeURIComponent(request.params.repo)}`;
    } catch {
      throw new HarborError("BAD_REQUEST", "repository name is not properly encoded");
    }
    if (!isValidRepositoryName(targetName)) throw new HarborError("BAD_REQUEST", `invalid repository name: ${targetName.slice(0, 300)}`);
    if (target.registry_id > 0) throw new HarborError("FORBIDDEN", `project ${target.name} is a proxy cache: nothing can be copied into it`);
    // The source: pull in its project (Harbor's check), 404 when it is not there.
    const source = await artifactNamed(request.principal, from, "repository", "pull");
    if (deps.pullPolicy) {
      const target = await scanTarget(deps.metadata, source.repository.name, source.artifact.digest);
      for (const digest of target?.kind === "index" ? [source.artifact.digest, ...target.children] : [source.artifact.digest]) {
        const verdict = await deps.pullPolicy(source.project, source.repository.name, digest);
        if (!verdict.allowed) throw new HarborError("PRECONDITION", `${verdict.message} (the source project's pull policy applies to copies)`);
      }
    }
    try {
      const copied = await copier.copy({
        source: { project: source.project, repositoryId: source.repository.id, name: source.repository.name, digest: source.artifact.digest },
        target: { project: target, name: targetName },
        actor: actorOf(request),
      });
      return reply.code(201).header("Location", `${request.url.split("?")[0].replace(/\/$/, "")}/${copied.digest}`).send();
    } catch (error) {
      if (error instanceof CopyConflictError) throw new HarborError("CONFLICT", error.message);
      if (error instanceof ImmutableTagError) throw new HarborError("PRECONDITION", error.message);
      if (error instanceof QuotaExceededError) throw new HarborError("FORBIDDEN", error.message);
      throw error;
    } finally {
      deps.metadata.forgetAll();
    }
  });
}
