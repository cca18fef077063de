import { ImmutableTagError } from "../policy/immutable-rules";
import type { RepositoryAccess } from "./access";
import type { DistributionContext } from "./context";
import { OciError } from "./errors";

/** What a /v2 request would do to the tags of a repository. */
export type TagChange =
  | { kind: "push"; tag: string; digest: string }
  | { kind: "delete-tag"; tag: string }
  | { kind: "delete-artifact"; digest: string };

/**
 * Refuses with 412 PRECONDITION a change that an immutable tag rule forbids: moving a protected tag to another
 * manifest, deleting it, or deleting a manifest a protected tag points at. Pushing a new tag, or the same manifest
 * again, changes nothing and passes.
 */
export async function guardTags(ctx: DistributionContext, access: RepositoryAccess, repositoryId: number | null, change: TagChange): Promise<void> {
  if (repositoryId === null) return;
  const assert = (tag: string, verb: "updated" | "deleted") => ctx.immutableRules.assertMutable(access.project.id, access.name, tag, verb);
  try {
    if (change.kind === "delete-artifact") {
      for (const tag of await ctx.metadata.tagsOf(repositoryId, change.digest)) await assert(tag, "deleted");
      return;
    }
    const current = await ctx.metadata.manifestByTag(repositoryId, change.tag);
    if (!current) return;
    if (change.kind === "push" && current.digest !== change.digest) await assert(change.tag, "updated");
    if (change.kind === "delete-tag") await assert(change.tag, "deleted");
  } catch (error) {
    if (error instanceof ImmutableTagError) throw new OciError("PRECONDITION", error.message);
    throw error;
  }
}
