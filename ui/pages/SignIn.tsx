import { useState } from "preact/hooks";
import { signIn } from "../api/session";
import { ErrorMessage } from "../components/ErrorMessage";

/** The sign-in form: database users only; the server's refusal (wrong password, lock-out, robots) is shown as written. */
export function SignIn(props: { onSignedIn: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get("principal") ?? ""), String(form.get("password") ?? ""));
      props.onSignedIn();
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={onSubmit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Berth</h1>
        <label for="principal">Username</label>
        <input id="principal" name="principal" autocomplete="username" required autoFocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <ErrorMessage error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
