import { ImmutableTagError, type ImmutableRules } from "../policy/immutable-rules";
import type { RepositoryAccess } from "./access";
import type { DistributionContext } from "./context";
import { OciError } from "./errors";
import type { DistributionMetadata } from "./metadata";

/** What a request would do to the tags of a repository. */
export type TagChange =
  | { kind: "push"; tag: string; digest: string }
  | { kind: "delete-tag"; tag: string }
  | { kind: "delete-artifact"; digest: string };

/**
 * Throws ImmutableTagError for a change an immutable tag rule forbids: moving a protected tag to another manifest,
 * deleting it, or deleting a manifest a protected tag points at. Pushing a new tag, or the same manifest again,
 * changes nothing and passes. Both the /v2 API and the management API ask this.
 */
export async function assertTagChangeAllowed(
  deps: { immutableRules: ImmutableRules; metadata: DistributionMetadata },
  project: { id: number },
  repository: string,
  repositoryId: number | null,
  change: TagChange,
): Promise<void> {
  if (repositoryId === null) return;
  const assert = (tag: string, verb: "updated" | "deleted") => deps.immutableRules.assertMutable(project.id, repository, tag, verb);
  if (change.kind === "delete-artifact") {
    for (const tag of await deps.metadata.tagsOf(repositoryId, change.digest)) await assert(tag, "deleted");
    return;
  }
  const current = await deps.metadata.manifestByTag(repositoryId, change.tag);
  if (!current) return;
  if (change.kind === "push" && current.digest !== change.digest) await assert(change.tag, "updated");
  if (change.kind === "delete-tag") await assert(change.tag, "deleted");
}

/** The /v2 form: 412 PRECONDITION in the OCI error body. */
export async function guardTags(ctx: DistributionContext, access: RepositoryAccess, repositoryId: number | null, change: TagChange): Promise<void> {
  try {
    await assertTagChangeAllowed(ctx, access.project, access.name, repositoryId, change);
  } catch (error) {
    if (error instanceof ImmutableTagError) throw new OciError("PRECONDITION", error.message);
    throw error;
  }
}
