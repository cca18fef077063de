import type { FastifyReply, FastifyRequest } from "fastify";
import { canSystem } from "../auth/rbac";
import { projectIdsAllowing } from "../projects/readable-projects";
import { authorizeRepository } from "./access";
import type { DistributionContext } from "./context";
import { requireDigest } from "./digest";
import { OciError } from "./errors";
import { intParam, setNextLink, stringParam } from "./http";
import { MEDIA_TYPES } from "./manifest";

type Query = Record<string, string | undefined>;

/** Takes one more row than asked, to know whether a next page exists without a count query. */
async function page(
  fetch: (last: string | null, limit: number | null) => Promise<string[]>,
  query: Query,
): Promise<{ items: string[]; next: string | null; n: number | null }> {
  const n = intParam(query.n, "n");
  const last = stringParam(query.last);
  if (n === 0) return { items: [], next: null, n };
  const rows = await fetch(last, n === null ? null : n + 1);
  if (n !== null && rows.length > n) return { items: rows.slice(0, n), next: rows[n - 1], n };
  return { items: rows, next: null, n };
}

/** Stored tags merged with `more` (tags being cached), in the listing's byte order, from after `last`, at most `limit`. */
async function withTags(stored: Promise<string[]>, more: string[], last: string | null, limit: number | null): Promise<string[]> {
  const extra = more.filter((tag) => last === null || tag > last);
  if (extra.length === 0) return stored;
  const all = [...new Set([...(await stored), ...extra])].sort();
  return limit === null ? all : all.slice(0, limit);
}

export async function listTags(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string) {
  const access = await authorizeRepository(ctx, request, name, "pull");
  // A mirror client named the repository by its upstream name, and is answered in it.
  const shown = request.mirror?.clientName(access.name) ?? access.name;
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  const beingCached = repositoryId !== null && access.project.registry_id > 0 ? ctx.proxy.tagsBeingCached(repositoryId) : [];
  if (repositoryId === null || (beingCached.length === 0 && !(await ctx.metadata.repositoryHasContent(repositoryId)))) {
    throw new OciError("NAME_UNKNOWN", `repository ${shown} is unknown`, { name: shown });
  }
  const result = await page((last, limit) => withTags(ctx.metadata.listTags(repositoryId, last, limit), beingCached, last, limit), request.query as Query);
  if (result.next !== null) setNextLink(reply, `/v2/${shown}/tags/list`, result.n!, result.next);
  return reply.send({ name: shown, tags: result.items });
}

export async function catalog(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply) {
  const principal = request.principal;
  let projectIds: number[] | null = null;
  if (request.tokenAccess !== null) {
    // A bearer token lists the catalog only with a registry:catalog grant (sysadmins), as in Harbor.
    const granted = request.tokenAccess.some((a) => a.type === "registry" && a.name === "catalog" && a.actions.length > 0);
    projectIds = granted ? null : [];
  } else if (!canSystem(principal, "catalog", "read")) {
    // Only the projects the caller may pull from: the public ones and those it is a member of or was granted.
    projectIds = await projectIdsAllowing(ctx, principal, "repository", "pull");
  }
  const result = await page(
    (last, limit) => ctx.metadata.catalog({ last, limit, projectIds }),
    request.query as Query,
  );
  if (result.next !== null) setNextLink(reply, "/v2/_catalog", result.n!, result.next);
  return reply.send({ repositories: result.items });
}

export async function listReferrers(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawDigest: string) {
  const access = await authorizeRepository(ctx, request, name, "pull");
  const digest = requireDigest(rawDigest);
  const artifactType = stringParam((request.query as Query).artifactType);
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  const rows =
    repositoryId === null ? [] : await ctx.metadata.referrers(repositoryId, `${digest.algorithm}:${digest.hex}`, artifactType);
  if (artifactType !== null) reply.header("OCI-Filters-Applied", "artifactType");
  // Sent as bytes: fastify appends "; charset=utf-8" to a JSON media type when it gets an object or a string,
  // and the spec (and the conformance suite) expect the bare index media type.
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: rows.map((row) => ({
      mediaType: row.media_type,
      digest: row.digest,
      size: row.size,
      ...(row.artifact_type ? { artifactType: row.artifact_type } : {}),
      ...(row.annotations ? { annotations: row.annotations } : {}),
    })),
  };
  return reply.header("Content-Type", MEDIA_TYPES.ociIndex).send(Buffer.from(JSON.stringify(index)));
}
