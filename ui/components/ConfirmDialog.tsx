import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";
import { useAction } from "../lib/use-action";

/**
 * Asks before a destructive action (a delete, a demotion); runs `action` on confirm and closes when it succeeded,
 * or shows the API's refusal as it wrote it and stays open.
 */
export function ConfirmDialog(props: { title: string; message: string; confirm: string; action: () => Promise<unknown>; onClose: () => void; onDone?: () => void }) {
  const submit = useAction();
  const onConfirm = () =>
    submit.run(async () => {
      await props.action();
      props.onDone?.();
    });
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorMessage error={submit.error} />
      <div class="actions">
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => void onConfirm()} disabled={submit.busy}>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
