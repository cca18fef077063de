import { useAction } from "../lib/use-action";
import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";

/**
 * "Are you sure?" before something that cannot be undone (deleting an artifact or a tag): `action` runs on confirm;
 * the API's refusal stays in the dialog as the server wrote it.
 */
export function ConfirmDialog(props: { title: string; message: string; confirm: string; action: () => Promise<unknown>; onClose: () => void; onDone: () => void }) {
  const { error, busy, run } = useAction(props.onDone);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorMessage error={error} />
      <div class="actions">
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => void run(props.action)} disabled={busy}>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
