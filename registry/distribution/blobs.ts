import type { FastifyReply, FastifyRequest } from "fastify";
import type { ByteRange } from "../storage/blob-store";
import { actorOf } from "../audit/audit-log";
import { authorizeRepository, type RepositoryAccess } from "./access";
import type { DistributionContext } from "./context";
import { requireDigest } from "./digest";
import { OciError } from "./errors";

/** Parses a single `bytes=start-end` range against a blob of `size` bytes; null = whole blob. */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) {
    throw new OciError("RANGE_INVALID", `unsupported Range: ${header.slice(0, 100)}`, { size });
  }
  let start: number;
  let end: number;
  if (match[1] === "") {
    // suffix range: the last N bytes
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) throw new OciError("RANGE_INVALID", `range ${header} is outside 0-${size - 1}`, { size });
  return { start, end };
}

/** The caller may do `action` on the repository; the blob's size there, or null when it is not linked there. */
async function findBlob(ctx: DistributionContext, request: FastifyRequest, name: string, rawDigest: string, action: "pull" | "delete") {
  const access = await authorizeRepository(ctx, request, name, action === "delete" ? "delete-blob" : "pull");
  const digest = requireDigest(rawDigest);
  const canonical = `${digest.algorithm}:${digest.hex}`;
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  const size = repositoryId === null ? null : await ctx.metadata.linkedBlobSize(repositoryId, canonical);
  return { digest: canonical, size, repositoryId, access };
}

const unknownBlob = (digest: string) => new OciError("BLOB_UNKNOWN", `blob ${digest} is unknown`, { digest });

async function linkedBlob(ctx: DistributionContext, request: FastifyRequest, name: string, rawDigest: string, action: "pull" | "delete") {
  const found = await findBlob(ctx, request, name, rawDigest, action);
  if (found.repositoryId === null || found.size === null) throw unknownBlob(found.digest);
  return { ...found, size: found.size, repositoryId: found.repositoryId };
}

function sendBlobHeaders(reply: FastifyReply, digest: string): FastifyReply {
  return reply
    .header("Docker-Content-Digest", digest)
    .header("ETag", `"${digest}"`)
    .header("Accept-Ranges", "bytes")
    .header("Content-Type", "application/octet-stream");
}

/** A blob of a proxy project that is not cached in its repository: from the cache's store or its upstream, whole. */
async function getProxiedBlob(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, access: RepositoryAccess, digest: string) {
  const blob = await ctx.proxy.blob(access.project, access.name, digest, request.method === "HEAD");
  if (!blob) throw unknownBlob(digest);
  sendBlobHeaders(reply, digest).header("Accept-Ranges", "none");
  if (blob.size !== null) reply.header("Content-Length", blob.size);
  if (!blob.stream) return reply.send();
  if (blob.size !== null) ctx.onBytesSent(blob.size);
  return reply.send(blob.stream);
}

export async function getBlob(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawDigest: string) {
  const { digest, size, access } = await findBlob(ctx, request, name, rawDigest, "pull");
  if (size === null) {
    if (access.project.registry_id > 0) return getProxiedBlob(ctx, request, reply, access, digest);
    throw unknownBlob(digest);
  }
  const range = parseRange(request.headers.range, size);
  // A whole blob from a store that can hand it out itself (S3 with BERTH_S3_REDIRECT_SECONDS): a redirect, as
  // distribution's S3 driver answers, after the same access checks; the bytes then skip this process.
  const redirect = request.method === "GET" && !range ? await ctx.store.redirectUrl?.(digest) : null;
  if (redirect) return reply.code(307).header("Docker-Content-Digest", digest).header("Location", redirect).send();
  sendBlobHeaders(reply, digest);
  const length = range ? range.end - range.start + 1 : size;
  reply.header("Content-Length", length);
  if (range) reply.code(206).header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  if (request.method === "HEAD") return reply.send();
  const stream = await ctx.store.read(digest, range ?? undefined);
  if (!stream) throw new OciError("BLOB_UNKNOWN", `blob ${digest} is missing from storage`, { digest });
  ctx.onBytesSent(length);
  return reply.send(stream);
}

/** Unlinks a blob from one repository; its bytes stay until garbage collection finds them unused. */
export async function deleteBlob(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawDigest: string) {
  const { digest, repositoryId, access } = await linkedBlob(ctx, request, name, rawDigest, "delete");
  const entry = { projectId: access.project.id, operation: "delete", resourceType: "blob", resource: `${access.name}@${digest}` } as const;
  await ctx.audit.change(actorOf(request), entry, (tx) => ctx.metadata.unlinkBlob(repositoryId, digest, tx));
  return reply.code(202).header("Docker-Content-Digest", digest).header("Content-Length", 0).send();
}
