/** An API error shown as the server wrote it, announced to screen readers. */
export function ErrorMessage(props: { error: Error | null }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}
