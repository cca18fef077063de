import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { principalName } from "../auth/principal";
import { isPublic } from "../projects/projects";
import { QuotaExceededError } from "../quotas/quotas";
import { authorizeRepository, mayAccess, scopeFor, tokenRequired, type RepositoryAccess } from "./access";
import type { DistributionContext } from "./context";
import { parseDigest, requireDigest } from "./digest";
import { OciError } from "./errors";
import { contentLength, hasBody, locationOf, stringParam } from "./http";
import { isValidRepositoryName } from "./names";

type Query = Record<string, string | undefined>;

function uploadLocation(ctx: DistributionContext, name: string, id: string): string {
  return locationOf(ctx.publicUrl, `/v2/${name}/blobs/uploads/${id}`);
}

function sendCreated(ctx: DistributionContext, reply: FastifyReply, name: string, digest: string) {
  return reply
    .code(201)
    .header("Location", locationOf(ctx.publicUrl, `/v2/${name}/blobs/${digest}`))
    .header("Docker-Content-Digest", digest)
    .header("Content-Length", 0)
    .send();
}

function sendProgress(ctx: DistributionContext, reply: FastifyReply, status: number, name: string, id: string, size: number) {
  return reply
    .code(status)
    .header("Location", uploadLocation(ctx, name, id))
    .header("Range", `0-${Math.max(0, size - 1)}`)
    .header("Docker-Upload-UUID", id)
    .header("Content-Length", 0)
    .send();
}

/** A request body as a stream, refusing a declared length that does not match a chunk's Content-Range. */
function chunkOf(request: FastifyRequest): Readable {
  return request.raw;
}

/** `Content-Range: <start>-<end>` (the spec's form; `bytes ` prefix and `/total` suffix tolerated). */
export function parseContentRange(header: string | undefined): { start: number; end: number } | null {
  if (header === undefined) return null;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) throw new OciError("RANGE_INVALID", `malformed Content-Range: ${header.slice(0, 100)}`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new OciError("RANGE_INVALID", `Content-Range ${header} ends before it starts`);
  return { start, end };
}

/**
 * The quota check of a blob about to be linked into `access`'s project: refuses with DENIED (403), as Harbor does,
 * when the project's storage limit would be exceeded.
 */
function quotaAdmission(ctx: DistributionContext, request: FastifyRequest, access: RepositoryAccess, digest: string) {
  return async (size: number): Promise<void> => {
    const project = { id: access.project.id, name: access.project.name, public: isPublic(access.project) };
    try {
      await ctx.quotas.admit(project, { digest, size, operator: principalName(request.principal), repository: access.name });
    } catch (error) {
      if (error instanceof QuotaExceededError) throw new OciError("DENIED", error.message);
      throw error;
    }
  };
}

/** The `from` of a mount request when it can name a repository here (anything else just opens a session). */
function mountSource(query: Query): string | null {
  const from = stringParam(query.from);
  return stringParam(query.mount) !== null && from !== null && isValidRepositoryName(from) && from.includes("/") ? from : null;
}

/** Tries a cross-repository mount; false when the source is unknown or not readable by the caller. */
async function tryMount(ctx: DistributionContext, request: FastifyRequest, access: RepositoryAccess, repositoryId: number, digest: string, from: string) {
  if (request.tokenAccess !== null && !request.tokenAccess.some((grant) => grant.type === "repository" && grant.name === from)) {
    // The token was issued without `from` in mind: ask for one that covers it too (distribution's challenge for a
    // mount). A token that names `from` without pull is the token service's "no", and a plain upload follows.
    throw tokenRequired(request, { repository: from, action: "pull" }, [scopeFor(access.name, "push"), scopeFor(from, "pull")]);
  }
  const source = await ctx.projects.findRefByName(from.slice(0, from.indexOf("/")));
  if (!source || !(await mayAccess(ctx, request, source, from, "pull"))) return false;
  const sourceId = await ctx.metadata.repositoryId(from);
  const size = sourceId === null ? null : await ctx.metadata.linkedBlobSize(sourceId, digest);
  if (size === null) return false;
  await quotaAdmission(ctx, request, access, digest)(size);
  return ctx.metadata.mountBlob(repositoryId, digest);
}

export async function startUpload(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string) {
  const query = request.query as Query;
  const from = mountSource(query);
  const access = await authorizeRepository(ctx, request, name, "push", from);
  const repositoryId = await ctx.metadata.ensureRepository(access.name, access.project.id);

  const mount = stringParam(query.mount);
  // A mount that cannot be done falls back to an ordinary upload session (202), as the spec asks.
  if (from !== null && mount !== null && parseDigest(mount) && (await tryMount(ctx, request, access, repositoryId, mount, from))) {
    return sendCreated(ctx, reply, access.name, mount);
  }

  const monolithicDigest = stringParam(query.digest);
  if (monolithicDigest !== null) {
    const digest = requireDigest(monolithicDigest);
    // Opened and finished within this request: not one of the caller's open sessions.
    const id = await ctx.uploads.start(repositoryId, principalName(request.principal));
    try {
      const admit = quotaAdmission(ctx, request, access, `${digest.algorithm}:${digest.hex}`);
      await ctx.uploads.finish(id, repositoryId, digest, hasBody(request) ? chunkOf(request) : Readable.from([]), admit);
    } catch (error) {
      await ctx.uploads.cancel(id, repositoryId).catch(() => undefined);
      throw error;
    }
    return sendCreated(ctx, reply, access.name, monolithicDigest);
  }

  const id = await ctx.uploads.start(repositoryId, principalName(request.principal), ctx.maxUploadsPerUser);
  if (hasBody(request)) {
    // Not in the spec, but distribution accepts a first chunk on POST; keep it rather than drop bytes.
    const size = await ctx.uploads.append(id, repositoryId, chunkOf(request), 0);
    return sendProgress(ctx, reply, 202, access.name, id, size);
  }
  return sendProgress(ctx, reply, 202, access.name, id, 0);
}

async function sessionRepository(ctx: DistributionContext, request: FastifyRequest, name: string, action: "push" | "pull") {
  const access = await authorizeRepository(ctx, request, name, action);
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  if (repositoryId === null) throw new OciError("BLOB_UPLOAD_UNKNOWN", "upload is unknown");
  return { access, name: access.name, repositoryId };
}

export async function patchUpload(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, id: string) {
  const session = await sessionRepository(ctx, request, name, "push");
  const range = parseContentRange(request.headers["content-range"] as string | undefined);
  const length = contentLength(request);
  if (range && length !== null && range.end - range.start + 1 !== length) {
    throw new OciError("RANGE_INVALID", `Content-Range covers ${range.end - range.start + 1} bytes but Content-Length is ${length}`);
  }
  const headroom = await ctx.quotas.headroom(session.access.project.id);
  const size = await ctx.uploads.append(id, session.repositoryId, chunkOf(request), range?.start ?? null, headroom);
  return sendProgress(ctx, reply, 202, session.name, id, size);
}

export async function putUpload(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, id: string) {
  const session = await sessionRepository(ctx, request, name, "push");
  const digest = requireDigest(stringParam((request.query as Query).digest) ?? undefined);
  const range = parseContentRange(request.headers["content-range"] as string | undefined);
  if (range) {
    const size = await ctx.uploads.size(id, session.repositoryId);
    if (range.start !== size) throw new OciError("RANGE_INVALID", `chunk starts at ${range.start} but the upload has ${size} bytes`);
  }
  const admit = quotaAdmission(ctx, request, session.access, `${digest.algorithm}:${digest.hex}`);
  await ctx.uploads.finish(id, session.repositoryId, digest, hasBody(request) ? chunkOf(request) : null, admit);
  return sendCreated(ctx, reply, session.name, `${digest.algorithm}:${digest.hex}`);
}

export async function getUploadStatus(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, id: string) {
  const session = await sessionRepository(ctx, request, name, "push");
  const size = await ctx.uploads.size(id, session.repositoryId);
  return sendProgress(ctx, reply, 204, session.name, id, size);
}

export async function cancelUpload(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, id: string) {
  const session = await sessionRepository(ctx, request, name, "push");
  await ctx.uploads.cancel(id, session.repositoryId);
  return reply.code(204).header("Content-Length", 0).send();
}
