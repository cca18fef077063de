import type { ManagedObject, ProjectGitOps } from "../api/types";
import { reverts } from "../lib/use-project-gitops";

/**
 * "Managed by policy (projects.yaml)" on an object the GitOps controller manages, with the warning that a change
 * made here by hand will be put back (when drift runs correct and the controller is not suspended).
 */
export function ManagedBadge(props: { object: ManagedObject | undefined; gitops: ProjectGitOps | null; detailed?: boolean }) {
  if (!props.object) return null;
  const reverted = reverts(props.gitops);
  const title = reverted ? `Declared in ${props.object.file}: a change made here by hand will be reverted by the GitOps controller.` : `Declared in ${props.object.file}.`;
  return (
    <span class="managed">
      <span class="badge" title={title}>
        managed by policy ({props.object.file})
      </span>
      {props.detailed && reverted ? (
        <span class="managed-warning" role="note">
          A change made here by hand will be reverted: edit {props.object.file} in git instead.
        </span>
      ) : null}
    </span>
  );
}

/**
 * Above a list whose rows may carry the badge (members, robots): the warning once for all of them, when some of
 * `kind` are managed and hand-made changes are put back.
 */
export function ManagedListNote(props: { gitops: ProjectGitOps | null; kind: string; what: string }) {
  const managed = props.gitops?.objects.find((object) => object.kind === props.kind);
  if (!managed || !reverts(props.gitops)) return null;
  return (
    <p class="managed-warning" role="note">
      {props.what} marked "managed by policy" are declared in {managed.file}: a change made here by hand to them will be reverted; edit {managed.file} in git
      instead.
    </p>
  );
}
