import { useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";

/**
 * Asks before a destructive action (a delete, a demotion); runs `action` on confirm and closes when it succeeded,
 * or shows the API's refusal as it wrote it and stays open.
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
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => void onConfirm()} disabled={busy} autoFocus>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
