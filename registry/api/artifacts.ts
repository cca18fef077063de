import { iconOf } from "../artifacts/icons";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ArtifactRow, ArtifactStore, Page, RepositoryRow } from "../artifacts/artifact-store";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import { principalName } from "../auth/principal";
import type { Queryable } from "../db/sql";
import { assertTagChangeAllowed, type TagChange } from "../distribution/immutability";
import type { DistributionMetadata } from "../distribution/metadata";
import { isValidTag } from "../distribution/names";
import type { EventPublisher, EventType } from "../events/events";
import { ImmutableTagError, type ImmutableRules } from "../policy/immutable-rules";
import { isPublic, type ProjectRow } from "../projects/projects";
import { ImageConfigs, NotAnImageError } from "../artifacts/image-config";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";
import { projectIdsAllowing } from "../projects/readable-projects";
import { accessoryType } from "../artifacts/accessory-types";
import { HELM_CHART_CONFIG } from "../artifacts/helm-chart";
import { artifactLookup, type ArtifactParams, type RepoParams } from "./artifact-lookup";
import { parseQuery, whereClause } from "./query";

export interface ArtifactRouteDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
  immutableRules: ImmutableRules;
  events: EventPublisher;
  audit: AuditLog;
  /** Harbor's scan_overview of artifacts of a repository (`with_scan_overview=true`), by digest. */
  scanOverviews?: (repository: string, digests: string[]) => Promise<Map<string, Record<string, unknown>>>;
  /** Harbor's sbom_overview of artifacts (`with_sbom_overview=true`), by digest. */
  sbomOverviews?: (digests: string[]) => Promise<Map<string, unknown>>;
  /** The image configs behind one artifact's `extra_attrs`. */
  imageConfigs?: ImageConfigs;
  /** Harbor's `labels` of artifacts of a repository, by digest. */
  labelsOf?: (repositoryId: number, digests: string[]) => Promise<Map<string, unknown[]>>;
}


const REPOSITORY_SORT: Record<string, string> = { name: "name", creation_time: "created_at", update_time: "updated_at", pull_count: "pull_count" };
const ARTIFACT_SORT: Record<string, string> = { push_time: "push_time", pull_time: "pull_time", size: "size", digest: "digest" };

/** `sort=a,-b` over the allowed keys, as SQL; `fallback` breaks ties so pages neither repeat nor skip rows. */
function orderBy(sort: string | undefined, keys: Record<string, string>, fallback: string): string {
  if (!sort) return fallback;
  const terms = sort.split(",").map((field) => {
    const descending = field.startsWith("-");
    const column = keys[descending ? field.slice(1) : field];
    if (!column) throw new HarborError("BAD_REQUEST", `cannot sort by "${field}"; sort keys: ${Object.keys(keys).join(", ")}`);
    return `${column} ${descending ? "DESC NULLS LAST" : "ASC NULLS FIRST"}`;
  });
  return [...terms, fallback].join(", ");
}

function pageOf(request: FastifyRequest, filterable: Record<string, string>, sortKeys: Record<string, string>, fallback: string): Page & { page: number; pageSize: number } {
  const query = request.query as Record<string, unknown>;
  const { page, pageSize } = paging(query);
  const params: unknown[] = [];
  const conditions = whereClause(parseQuery(queryString(query, "q"), Object.keys(filterable)), filterable, params);
  return { conditions, params, order: orderBy(queryString(query, "sort"), sortKeys, fallback), limit: pageSize, offset: (page - 1) * pageSize, page, pageSize };
}

function repositoryToApi(row: RepositoryRow) {
  return {
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    description: row.description,
    artifact_count: row.artifact_count,
    pull_count: row.pull_count,
    creation_time: row.created_at,
    update_time: row.updated_at,
  };
}

const IMAGE_CONFIGS = new Set(["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"]);

/** Harbor's artifact `type`: an index, an image (its config is an image config), a Helm chart, or any other artifact. */
function artifactKind(row: ArtifactRow): "IMAGE_INDEX" | "IMAGE" | "CHART" | "ARTIFACT" {
  if (/index|manifest\.list/.test(row.media_type)) return "IMAGE_INDEX";
  if (row.artifact_type === HELM_CHART_CONFIG) return "CHART";
  return row.artifact_type === null || IMAGE_CONFIGS.has(row.artifact_type) ? "IMAGE" : "ARTIFACT";
}

/** Turns an immutable-rule refusal into Harbor's 412. */
async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ImmutableTagError) throw new HarborError("PRECONDITION", error.message);
    throw error;
  }
}

/** /api/v2.0/projects/{p}/repositories/…: browse and clean repositories, artifacts and tags (Harbor's artifact API). */
export function registerArtifactRoutes(app: FastifyInstance, deps: ArtifactRouteDeps): void {
  const { artifacts, metadata } = deps;
  const repos = "/api/v2.0/projects/:nameOrId/repositories";

  const { repositoryFor, artifactFor } = artifactLookup(deps);

  /** Artifacts (of one or several repositories of `project`) with their tags, children and accessories, as Harbor shows them. */
  async function artifactsToApi(request: FastifyRequest, project: ProjectRow, rows: ArtifactRow[]) {
    const byRepository = new Map<number, ArtifactRow[]>();
    for (const row of rows) byRepository.set(row.repository_id, [...(byRepository.get(row.repository_id) ?? []), row]);
    const shown = new Map<ArtifactRow, Record<string, unknown>>();
    for (const group of byRepository.values()) {
      const shownGroup = await repositoryArtifactsToApi(request, project, { id: group[0].repository_id, name: group[0].repository_name }, group);
      group.forEach((row, i) => shown.set(row, shownGroup[i]));
    }
    return rows.map((row) => shown.get(row)!);
  }

  async function repositoryArtifactsToApi(request: FastifyRequest, project: ProjectRow, repository: { id: number; name: string }, rows: ArtifactRow[]) {
    const digests = rows.map((row) => row.digest);
    const withScanOverview = queryString(request.query, "with_scan_overview") === "true" && deps.scanOverviews !== undefined;
    const withSbomOverview = queryString(request.query, "with_sbom_overview") === "true" && deps.sbomOverviews !== undefined;
    const [tags, references, accessories, overviews, sboms, labels] = await Promise.all([
      artifacts.tags(repository.id, digests),
      artifacts.references(repository.id, digests),
      artifacts.accessories(repository.id, digests),
      withScanOverview ? deps.scanOverviews!(repository.name, digests) : null,
      withSbomOverview ? deps.sbomOverviews!(digests) : null,
      deps.labelsOf?.(repository.id, digests),
    ]);
    const immutable = new Map<string, boolean>();
    for (const tag of tags) immutable.set(tag.name, (await deps.immutableRules.protecting(project.id, repository.name, tag.name)) !== null);
    return rows.map((row) => ({
      id: row.id,
      type: artifactKind(row),
      digest: row.digest,
      media_type: row.media_type,
      manifest_media_type: row.media_type,
      artifact_type: row.artifact_type ?? "",
      icon: iconOf(artifactKind(row), row.artifact_type),
      size: row.size,
      push_time: row.push_time,
      pull_time: row.pull_time,
      project_id: project.id,
      repository_id: repository.id,
      repository_name: repository.name,
      tags: tags
        .filter((tag) => tag.digest === row.digest)
        .map((tag) => ({ name: tag.name, repository_id: repository.id, push_time: tag.created_at, immutable: immutable.get(tag.name) ?? false })),
      references: references.filter((r) => r.parent === row.digest).map((r) => ({ parent_digest: r.parent, child_digest: r.child, platform: r.platform })),
      accessories: accessories
        .filter((a) => a.subject_digest === row.digest)
        .map((a) => ({
          id: a.id,
          artifact_id: a.id,
          subject_artifact_id: row.id,
          digest: a.digest,
          type: accessoryType(a),
          artifact_type: a.artifact_type ?? "",
          size: a.size,
          subject_artifact_digest: row.digest,
          creation_time: a.created_at,
        })),
      labels: labels?.get(row.digest) ?? [],
      ...(overviews?.has(row.digest) ? { scan_overview: overviews.get(row.digest) } : {}),
      ...(sboms?.has(row.digest) ? { sbom_overview: sboms.get(row.digest) } : {}),
    }));
  }

  /** A change, its audit record in the same transaction, then this node's caches of the repository forget it. */
  async function audited(request: FastifyRequest, project: ProjectRow, entry: Omit<AuditEntry, "projectId">, change: (tx: Queryable) => Promise<boolean>) {
    const changed = await deps.audit.change(actorOf(request), { ...entry, projectId: project.id }, change);
    metadata.forgetAll();
    return changed;
  }

  const deletedEvent = (request: FastifyRequest, project: ProjectRow, repository: string, digest: string, type: EventType = "DELETE_ARTIFACT") =>
    deps.events.publish({
      type,
      projectId: project.id,
      operator: principalName(request.principal),
      occurredAt: new Date(),
      repository: { name: repository, public: isPublic(project) },
      resources: [{ digest, tag: null }],
    });

  const guard = (project: ProjectRow, repository: RepositoryRow, change: TagChange) =>
    guarded(() => assertTagChangeAllowed(deps, project, repository.name, repository.id, change));

  const listRepositories = async (request: FastifyRequest, reply: FastifyReply, projectIds: number[] | null) => {
    const page = pageOf(request, { name: "name" }, REPOSITORY_SORT, "name");
    const { rows, total } = await artifacts.repositories(projectIds, page);
    setPageHeaders(request, reply, page, total);
    return rows.map(repositoryToApi);
  };

  app.get<{ Params: { nameOrId: string } }>(repos, async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "repository", "list");
    return listRepositories(request, reply, [project.id]);
  });

  // Every repository the caller may list, in whichever project (Harbor's ListAllRepositories).
  app.get("/api/v2.0/repositories", async (request, reply) =>
    listRepositories(request, reply, await projectIdsAllowing(deps, request.principal, "repository", "list")),
  );

  app.get<{ Params: RepoParams }>(`${repos}/:repo`, async (request) => repositoryToApi((await repositoryFor(request, "repository", "read")).repository));

  // Harbor's body is a whole Repository; only its description may change.
  app.put<{ Params: RepoParams }>(`${repos}/:repo`, async (request, reply) => {
    const { project, repository } = await repositoryFor(request, "repository", "update");
    const description = jsonObjectBody(request).description ?? "";
    if (typeof description !== "string") throw new HarborError("BAD_REQUEST", "description must be a string");
    const entry = { operation: "update", resourceType: "repository", resource: repository.name, description: `update repository description: ${repository.name}` } as const;
    await audited(request, project, entry, (tx) => artifacts.setDescription(repository.id, description, tx));
    return reply.code(200).send();
  });

  // The top-level artifacts of every repository of a project (Harbor's listArtifactsOfProject).
  app.get<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId/artifacts", async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "artifact", "list");
    const filterable = { digest: "m.digest", media_type: "m.media_type", artifact_type: "m.artifact_type" };
    const page = pageOf(request, filterable, ARTIFACT_SORT, "push_time DESC, digest, repository_id");
    // As Harbor: "latest in repository" only applies when the query narrows the artifacts to one kind.
    const kindNarrowed = parseQuery(queryString(request.query, "q"), ["media_type", "artifact_type"]).length > 0;
    const latest = queryString(request.query, "latest_in_repository") === "true" && kindNarrowed;
    const { rows, total } = await artifacts.projectArtifacts(project.id, page, latest);
    setPageHeaders(request, reply, page, total);
    return artifactsToApi(request, project, rows);
  });

  app.delete<{ Params: RepoParams }>(`${repos}/:repo`, async (request, reply) => {
    const { project, repository } = await repositoryFor(request, "repository", "delete");
    const digests = await artifacts.digests(repository.id);
    for (const digest of digests) await guard(project, repository, { kind: "delete-artifact", digest });
    await audited(request, project, { operation: "delete", resourceType: "repository", resource: repository.name }, async (tx) => {
      for (const digest of digests) await metadata.deleteManifest(repository.id, digest, tx);
      return true;
    });
    for (const digest of digests) await deletedEvent(request, project, repository.name, digest);
    return reply.code(200).send();
  });

  app.get<{ Params: RepoParams }>(`${repos}/:repo/artifacts`, async (request, reply) => {
    const { project, repository } = await repositoryFor(request, "artifact", "list");
    const page = pageOf(request, { digest: "m.digest", media_type: "m.media_type" }, ARTIFACT_SORT, "push_time DESC, digest");
    const { rows, total } = await artifacts.artifacts(repository.id, page);
    setPageHeaders(request, reply, page, total);
    return artifactsToApi(request, project, rows);
  });

  // One artifact also carries Harbor's `extra_attrs` (read from its image config: not done for lists, where every
  // artifact would cost a blob read).
  app.get<{ Params: ArtifactParams }>(`${repos}/:repo/artifacts/:reference`, async (request) => {
    const { project, repository, artifact } = await artifactFor(request, "artifact", "read");
    const [shown] = await artifactsToApi(request, project, [artifact]);
    return { ...shown, extra_attrs: await extraAttrs(repository.id, artifact.digest) };
  });

  async function extraAttrs(repositoryId: number, digest: string): Promise<Record<string, unknown>> {
    const manifest = deps.imageConfigs ? await metadata.manifestByDigest(repositoryId, digest) : null;
    if (!manifest) return {};
    try {
      const config = await deps.imageConfigs!.of(manifest);
      return config ? ImageConfigs.extraAttrs(config) : {};
    } catch (error) {
      if (error instanceof NotAnImageError) return {};
      throw error;
    }
  }

  // The management API checks artifact:delete (the registry API checks repository:delete), as Harbor does.
  app.delete<{ Params: ArtifactParams }>(`${repos}/:repo/artifacts/:reference`, async (request, reply) => {
    const { project, repository, artifact } = await artifactFor(request, "artifact", "delete");
    await guard(project, repository, { kind: "delete-artifact", digest: artifact.digest });
    const entry = { operation: "delete", resourceType: "artifact", resource: `${repository.name}@${artifact.digest}` } as const;
    await audited(request, project, entry, (tx) => metadata.deleteManifest(repository.id, artifact.digest, tx));
    await deletedEvent(request, project, repository.name, artifact.digest);
    return reply.code(200).send();
  });

  app.get<{ Params: ArtifactParams }>(`${repos}/:repo/artifacts/:reference/tags`, async (request, reply) => {
    const { repository, artifact } = await artifactFor(request, "tag", "list");
    const { page, pageSize } = paging(request.query as Record<string, unknown>);
    const tags = await artifacts.tags(repository.id, [artifact.digest]);
    setPageHeaders(request, reply, { page, pageSize }, tags.length);
    return tags.slice((page - 1) * pageSize, page * pageSize).map((tag) => ({ name: tag.name, repository_id: repository.id, push_time: tag.created_at }));
  });

  app.post<{ Params: ArtifactParams }>(`${repos}/:repo/artifacts/:reference/tags`, async (request, reply) => {
    const { project, repository, artifact } = await artifactFor(request, "tag", "create");
    const name = jsonObjectBody(request).name;
    if (typeof name !== "string" || !isValidTag(name)) throw new HarborError("BAD_REQUEST", "name must be a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
    // Harbor does not move a tag with this endpoint: a tag that exists anywhere in the repository is a conflict.
    if (await metadata.manifestByTag(repository.id, name)) throw new HarborError("CONFLICT", `tag ${name} already exists in ${repository.name}`);
    const entry = { operation: "create", resourceType: "tag", resource: `${repository.name}:${name}` } as const;
    await audited(request, project, entry, (tx) => metadata.addTag(repository.id, name, artifact.digest, tx));
    return reply.code(201).header("Location", `${request.url.split("?")[0]}/${encodeURIComponent(name)}`).send();
  });

  app.delete<{ Params: ArtifactParams & { tag: string } }>(`${repos}/:repo/artifacts/:reference/tags/:tag`, async (request, reply) => {
    const { project, repository, artifact } = await artifactFor(request, "tag", "delete");
    const tag = request.params.tag;
    if ((await metadata.manifestByTag(repository.id, tag))?.digest !== artifact.digest) {
      throw new HarborError("NOT_FOUND", `tag ${tag} is not on ${repository.name}@${artifact.digest}`);
    }
    await guard(project, repository, { kind: "delete-tag", tag });
    const entry = { operation: "delete", resourceType: "tag", resource: `${repository.name}:${tag}` } as const;
    await audited(request, project, entry, (tx) => metadata.deleteTag(repository.id, tag, tx));
    return reply.code(200).send();
  });
}
