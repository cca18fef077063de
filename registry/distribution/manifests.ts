import type { FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { actorOf } from "../audit/audit-log";
import type { EventType, RegistryEvent } from "../events/events";
import { isPublic } from "../projects/projects";
import { isScannerRequest } from "../scanning/scanner-principal";
import { authorizeRepository, type RepositoryAccess } from "./access";
import { guardTags } from "./immutability";
import type { DistributionContext } from "./context";
import { digestOf, parseDigest } from "./digest";
import { OciError } from "./errors";
import { locationOf } from "./http";
import { assertReferenceLimit, parseManifest } from "./manifest";
import { unknownReferences, type StoredManifest } from "./metadata";
import { isValidTag } from "./names";

/** Manifests larger than this are refused, as distribution and the spec's guidance do. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

type Reference = { kind: "digest"; digest: string } | { kind: "tag"; tag: string };

function parseReference(reference: string): Reference {
  const digest = parseDigest(reference);
  if (digest) return { kind: "digest", digest: reference };
  if (reference.includes(":")) throw new OciError("DIGEST_INVALID", `invalid digest: ${reference.slice(0, 200)}`);
  if (!isValidTag(reference)) throw new OciError("MANIFEST_INVALID", `invalid tag: ${reference.slice(0, 200)}`);
  return { kind: "tag", tag: reference };
}

/** For pulls: a malformed tag cannot name any manifest, so it is unknown (404, as the conformance suite expects). */
function parsePullReference(reference: string): Reference {
  if (!reference.includes(":") && !isValidTag(reference)) {
    throw new OciError("MANIFEST_UNKNOWN", `manifest ${reference.slice(0, 200)} is unknown`, { reference: reference.slice(0, 200) });
  }
  return parseReference(reference);
}

async function readLimited(source: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      source.resume();
      throw new OciError("SIZE_INVALID", `manifest is larger than ${limit} bytes`, { limit }, 413);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function findManifest(ctx: DistributionContext, repositoryId: number | null, reference: Reference) {
  if (repositoryId === null) return null;
  return reference.kind === "digest"
    ? ctx.metadata.manifestByDigest(repositoryId, reference.digest)
    : ctx.metadata.manifestByTag(repositoryId, reference.tag);
}

function sendManifestHeaders(reply: FastifyReply, manifest: StoredManifest): void {
  reply
    .header("Content-Type", manifest.media_type)
    .header("Content-Length", manifest.size)
    .header("Docker-Content-Digest", manifest.digest)
    .header("ETag", `"${manifest.digest}"`);
}

/** An artifact event of the repository `access` names, happening now. */
function artifactEvent(type: EventType, access: RepositoryAccess, operator: string, digest: string, tag: string | null): RegistryEvent {
  return {
    type,
    projectId: access.project.id,
    operator,
    occurredAt: new Date(),
    repository: { name: access.name, public: isPublic(access.project) },
    resources: [{ digest, tag }],
  };
}

export async function getManifest(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawReference: string) {
  const access = await authorizeRepository(ctx, request, name, "pull");
  const reference = parsePullReference(rawReference);
  const proxied = access.project.registry_id > 0;
  let repositoryId = proxied ? null : await ctx.metadata.repositoryId(access.name);
  const manifest = proxied ? await ctx.proxy.manifest(access.project, access.name, reference) : await findManifest(ctx, repositoryId, reference);
  if (!manifest) throw new OciError("MANIFEST_UNKNOWN", `manifest ${rawReference} is unknown in ${access.name}`, { reference: rawReference });
  // A proxy pull may have just created the repository.
  repositoryId ??= await ctx.metadata.repositoryId(access.name);
  // As in Harbor, the policy guards the content (GET); HEAD still tells a client the manifest exists.
  // The scanner's own pulls are exempt (Harbor's SkipPolicyChecking): a policy that needs a scan must let it scan.
  if (request.method === "GET" && ctx.pullPolicy && !isScannerRequest(request.principal, request.tokenAccess)) {
    const verdict = await ctx.pullPolicy(access.project, access.name, manifest.digest);
    if (!verdict.allowed) throw new OciError("PROJECTPOLICYVIOLATION", verdict.message);
  }
  sendManifestHeaders(reply, manifest);
  if (request.method === "HEAD") return reply.send();
  ctx.onBytesSent(manifest.size);
  const actor = actorOf(request);
  ctx.pullStats.record(repositoryId!, manifest.digest);
  ctx.audit.queue({ projectId: access.project.id, operation: "pull", resourceType: "artifact", resource: `${access.name}@${manifest.digest}` }, actor);
  void ctx.events.publish(artifactEvent("PULL_ARTIFACT", access, actor.username, manifest.digest, reference.kind === "tag" ? reference.tag : null));
  return reply.send(manifest.content);
}

export async function putManifest(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawReference: string) {
  const access = await authorizeRepository(ctx, request, name, "push");
  const reference = parseReference(rawReference);
  const declared = request.headers["content-length"];
  if (declared !== undefined && Number(declared) > MAX_MANIFEST_BYTES) {
    throw new OciError("SIZE_INVALID", `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { limit: MAX_MANIFEST_BYTES }, 413);
  }
  const content = await readLimited(request.raw, MAX_MANIFEST_BYTES);
  const parsed = parseManifest(content, request.headers["content-type"]);
  assertReferenceLimit(parsed, ctx.maxManifestReferences);

  // The digest of what was sent, in the algorithm the client named when it pushed by digest.
  const algorithm = reference.kind === "digest" ? parseDigest(reference.digest)!.algorithm : "sha256";
  const digest = digestOf(content, algorithm);
  if (reference.kind === "digest" && reference.digest !== digest) {
    throw new OciError("DIGEST_INVALID", `manifest has digest ${digest}, not ${reference.digest}`, { digest: reference.digest });
  }

  const repositoryId = await ctx.metadata.ensureRepository(access.name, access.project.id);
  if (reference.kind === "tag") await guardTags(ctx, access, repositoryId, { kind: "push", tag: reference.tag, digest });
  const missing = await ctx.metadata.missingReferences(repositoryId, parsed.references);
  if (missing.length > 0) throw unknownReferences(missing);
  await ctx.metadata.putManifest(
    repositoryId,
    {
      digest,
      mediaType: parsed.mediaType,
      content,
      artifactType: parsed.artifactType,
      subjectDigest: parsed.subject?.digest ?? null,
      annotations: parsed.annotations,
      references: parsed.references,
    },
    reference.kind === "tag" ? reference.tag : null,
    (tx) =>
      ctx.audit.record(
        tx,
        {
          projectId: access.project.id,
          operation: "create",
          resourceType: "artifact",
          resource: `${access.name}@${digest}`,
          description: `push artifact: ${access.name}@${digest}${reference.kind === "tag" ? ` (tag ${reference.tag})` : ""}`,
        },
        actorOf(request),
      ),
  );
  await ctx.events.publish(artifactEvent("PUSH_ARTIFACT", access, actorOf(request).username, digest, reference.kind === "tag" ? reference.tag : null));
  if (parsed.subject) reply.header("OCI-Subject", parsed.subject.digest);
  return reply
    .code(201)
    .header("Location", locationOf(ctx.publicUrl, `/v2/${access.name}/manifests/${digest}`))
    .header("Docker-Content-Digest", digest)
    .header("Content-Length", 0)
    .send();
}

/** By digest: removes the manifest and its tags. By tag: removes only the tag (OCI v1.1). */
export async function deleteManifest(ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, name: string, rawReference: string) {
  const reference = parseReference(rawReference);
  const access = await authorizeRepository(ctx, request, name, reference.kind === "digest" ? "delete-manifest" : "delete-tag");
  const repositoryId = await ctx.metadata.repositoryId(access.name);
  await guardTags(
    ctx,
    access,
    repositoryId,
    reference.kind === "digest" ? { kind: "delete-artifact", digest: reference.digest } : { kind: "delete-tag", tag: reference.tag },
  );
  const entry = {
    projectId: access.project.id,
    operation: "delete",
    resourceType: reference.kind === "digest" ? "artifact" : "tag",
    resource: reference.kind === "digest" ? `${access.name}@${reference.digest}` : `${access.name}:${reference.tag}`,
  } as const;
  const deleted =
    repositoryId !== null &&
    (await ctx.audit.change(actorOf(request), entry, (tx) =>
      reference.kind === "digest"
        ? ctx.metadata.deleteManifest(repositoryId, reference.digest, tx)
        : ctx.metadata.deleteTag(repositoryId, reference.tag, tx),
    ));
  if (!deleted) throw new OciError("MANIFEST_UNKNOWN", `manifest ${rawReference} is unknown in ${access.name}`, { reference: rawReference });
  // Harbor fires DELETE_ARTIFACT for artifacts, not for a tag removed from one.
  if (reference.kind === "digest") await ctx.events.publish(artifactEvent("DELETE_ARTIFACT", access, actorOf(request).username, reference.digest, null));
  return reply.code(202).header("Content-Length", 0).send();
}
