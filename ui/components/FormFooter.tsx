import { useState } from "preact/hooks";
import { ErrorMessage } from "./ErrorMessage";

/**
 * A dialog form's submit: `run(action)` marks it busy while the request is out and keeps the API's refusal to show;
 * on success the caller usually closes the dialog.
 */
export function useSubmit() {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    setBusy(true);
    try {
      await action();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run, setError };
}

/** The end of a dialog form: the API's refusal as written, then Cancel and the submit button. */
export function FormFooter(props: { error: Error | null; busy: boolean; submit: string; onCancel: () => void }) {
  return (
    <>
      <ErrorMessage error={props.error} />
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={props.busy}>
          {props.submit}
        </button>
      </div>
    </>
  );
}
