import { ErrorMessage } from "./ErrorMessage";

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
