import type { FastifyReply, FastifyRequest } from "fastify";
import type { ByteRange } from "../storage/blob-store";
import { actorOf } from "../audit/audit-log";
import { authorizeRepository } from "./access";
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

async function linkedBlob(ctx: DistributionContext, request: FastifyRequest, name: string, rawDigest: string, action: "pull" | "delete") {
  const access = await authorizeRepository(ctx, request, name, action === "delete" ? "delete-blob" : "pull");
  const digest = requireDigest(rawDigest);
  const canonical = `${digest.algorithm}:${digest.hex}`;
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  const size = repositoryId === null ? null : await ctx.metadata.linkedBlobSize(repositoryId, canonical);
  if (repositoryId === null || size === null) throw new OciError("BLOB_UNKNOWN", `blob ${canonical} is unknown`, { digest: canonical });
  return { digest: canonical, size, repositoryId, access };
}

export async function getBlob(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawDigest: string) {
  const { digest, size } = await linkedBlob(ctx, request, name, rawDigest, "pull");
  const range = parseRange(request.headers.range, size);
  reply
    .header("Docker-Content-Digest", digest)
    .header("ETag", `"${digest}"`)
    .header("Accept-Ranges", "bytes")
    .header("Content-Type", "application/octet-stream");
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
