import { useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";

/**
 * "Are you sure?" before something that cannot be undone (deleting an artifact or a tag): `action` runs on confirm;
 * the API's refusal stays in the dialog as the server wrote it.
 */
export function ConfirmDialog(props: { title: string; message: string; confirm: string; action: () => Promise<unknown>; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const onConfirm = async () => {
    setBusy(true);
    try {
      await props.action();
      props.onDone();
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorMessage error={error} />
      <div class="actions">
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => void onConfirm()} disabled={busy}>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
