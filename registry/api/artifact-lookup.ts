import type { FastifyRequest } from "fastify";
import type { ArtifactStore, RepositoryRow } from "../artifacts/artifact-store";
import type { Principal } from "../auth/principal";
import type { ActionName, Resource } from "../auth/rbac";
import { parseDigest } from "../distribution/digest";
import type { DistributionMetadata } from "../distribution/metadata";
import { HarborError } from "./errors";
import { authorizeIn, projectFor, type ProjectAccessDeps } from "./project-access";

export type RepoParams = { nameOrId: string; repo: string };
export type ArtifactParams = RepoParams & { reference: string };

/** Harbor encodes a nested repository name twice in paths (`a%252Fb`); fastify has undone one level. */
function repositoryPath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HarborError("BAD_REQUEST", "repository name is not properly encoded");
  }
}

/**
 * Finds what an artifact API path names, after checking the caller may do `resource:action` in its project: the
 * repository (`/projects/{p}/repositories/{r}`) or the artifact (`…/artifacts/{reference}`, a digest or a tag).
 */
export function artifactLookup(deps: ProjectAccessDeps & { artifacts: ArtifactStore; metadata: DistributionMetadata }) {
  const { artifacts, metadata } = deps;
  /** The project (checked for `resource:action`) and the repository named in the path. */
  async function repositoryFor(request: FastifyRequest<{ Params: RepoParams }>, resource: Resource, action: ActionName) {
    const project = await projectFor(deps, request, request.params.nameOrId, resource, action);
    const name = `${project.name}/${repositoryPath(request.params.repo)}`;
    const repository = await artifacts.repository(name);
    if (!repository) throw new HarborError("NOT_FOUND", `repository ${name} not found`);
    return { project, repository };
  }

  async function artifactFor(request: FastifyRequest<{ Params: ArtifactParams }>, resource: Resource, action: ActionName) {
    const { project, repository } = await repositoryFor(request, resource, action);
    return { project, repository, artifact: await artifactIn(repository, request.params.reference) };
  }

  /** The artifact `reference` (a tag or a digest) of the repository `name` (`project/repo`), checked as artifactFor. */
  async function artifactNamed(principal: Principal, name: { project: string; repository: string; reference: string }, resource: Resource, action: ActionName) {
    const project = await deps.projects.findByName(name.project);
    await authorizeIn(deps, principal, project, name.project, resource, action);
    const repository = await artifacts.repository(name.repository);
    if (!repository) throw new HarborError("NOT_FOUND", `repository ${name.repository} not found`);
    return { project: project!, repository, artifact: await artifactIn(repository, name.reference) };
  }

  async function artifactIn(repository: RepositoryRow, reference: string) {
    const digest = parseDigest(reference) ? reference : (await metadata.manifestByTag(repository.id, reference))?.digest;
    const artifact = digest ? await artifacts.artifact(repository.id, digest) : null;
    if (!artifact) throw new HarborError("NOT_FOUND", `artifact ${repository.name}:${reference} not found`);
    return artifact;
  }

  return { repositoryFor, artifactFor, artifactNamed };
}
