import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";

/**
 * A dialog holding one form: `onSubmit` gets the form's data and does the request; the dialog stays open with the
 * API's message when it fails, and the caller closes it (in `onSubmit`) when it succeeds.
 */
export function FormDialog(props: {
  title: string;
  submitLabel: string;
  onSubmit: (form: FormData) => Promise<void>;
  onClose: () => void;
  danger?: boolean;
  children: ComponentChildren;
}) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(new FormData(event.currentTarget as HTMLFormElement));
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form onSubmit={submit}>
        {props.children}
        <ErrorMessage error={error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? "danger" : "primary"} disabled={busy}>
            {props.submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
