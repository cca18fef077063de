import { useState } from "preact/hooks";
import { send } from "../api/client";
import { useAction } from "../lib/use-action";
import type { Tag } from "../api/types";
import { ConfirmDialog } from "./ConfirmDialog";
import { Dialog } from "./Dialog";
import { FormFooter } from "./FormFooter";

/**
 * An artifact's tags (`api`: the artifact's API path), each with a delete button when the caller may delete tags;
 * `onChange` runs after a tag is deleted so the caller reloads.
 */
export function TagChips(props: { api: string; tags: Tag[] | null; canDelete: boolean; onChange: () => void }) {
  const [deleting, setDeleting] = useState<string | null>(null);
  const tags = props.tags ?? [];
  if (tags.length === 0) return <span class="muted">untagged</span>;
  return (
    <span class="tag-chips">
      {tags.map((tag) => (
        <span class="tag-chip" key={tag.name}>
          <span class="tag-name">{tag.name}</span>
          {tag.immutable ? <span class="muted" title="Protected by an immutability rule"> (immutable)</span> : null}
          {props.canDelete ? (
            <button type="button" class="chip-remove" aria-label={`Delete tag ${tag.name}`} title={`Delete tag ${tag.name}`} onClick={() => setDeleting(tag.name)}>
              ×
            </button>
          ) : null}
        </span>
      ))}
      {deleting !== null ? (
        <ConfirmDialog
          title="Delete tag"
          message={`Delete tag ${deleting}? The artifact stays; pulls by this tag stop working.`}
          confirm="Delete"
          onClose={() => setDeleting(null)}
          action={async () => {
            await send(`${props.api}/tags/${encodeURIComponent(deleting)}`, "DELETE");
            setDeleting(null);
            props.onChange();
          }}
        />
      ) : null}
    </span>
  );
}

/** POST …/artifacts/{ref}/tags: the server checks the name, that it is free in the repository, and immutability rules. */
export function AddTagDialog(props: { api: string; onClose: () => void; onAdded: () => void }) {
  const { error, busy, run } = useAction(props.onAdded);
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get("name") ?? "").trim();
    void run(() => send(`${props.api}/tags`, "POST", { name }));
  };
  return (
    <Dialog title="Add tag" onClose={props.onClose}>
      <form onSubmit={onSubmit}>
        <label for="tag-name">Tag name</label>
        <input id="tag-name" name="name" required maxLength={128} autoFocus />
        <FormFooter error={error} busy={busy} submit="Add" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
