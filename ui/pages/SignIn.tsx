import { useState } from "preact/hooks";
import { OIDC_LOGIN_PATH, signIn } from "../api/session";
import type { AuthMode } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";

/** The username and password form; the server's refusal (wrong password, lock-out, robots) is shown as written. */
function PasswordForm(props: { usernameLabel: string; submitLabel: string; onSignedIn: () => void; autoFocus: boolean }) {
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
    <form onSubmit={onSubmit}>
      <label for="principal">{props.usernameLabel}</label>
      <input id="principal" name="principal" autocomplete="username" required autoFocus={props.autoFocus} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <ErrorMessage error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Signing in…" : props.submitLabel}
      </button>
    </form>
  );
}

/** What /c/oidc/callback's `?sso_error=` codes mean (the server logs the details; a code cannot put words here). */
const SSO_ERRORS: Record<string, string> = {
  expired: "The single sign-on took too long or was started in another browser. Please sign in again.",
  refused: "The identity provider did not sign you in (refused, cancelled, or its answer did not check out). Please try again.",
  account:
    "You were signed in at the identity provider, but Berth cannot use that account: its username is taken by another Berth user or is not allowed. Ask an administrator.",
  unavailable: "The identity provider cannot be reached right now. Please try again later, or ask an administrator.",
};

/** The failed single sign-on the address reports, once: the code is dropped from the address so a reload forgets it. */
function useSsoError(): string | null {
  const [message] = useState(() => {
    const code = new URLSearchParams(location.search).get("sso_error");
    if (code === null) return null;
    history.replaceState(null, "", location.pathname);
    return SSO_ERRORS[code] ?? SSO_ERRORS.refused;
  });
  return message;
}

/**
 * The sign-in page, following the registry's auth mode: a password form for database users, the same form for
 * directory users in ldap mode, and in oidc mode a link to the provider (/c/oidc/login, which comes back signed in
 * at /ui/) with the password form kept for the built-in admin, who always signs in locally.
 */
export function SignIn(props: { authMode: AuthMode; onSignedIn: () => void }) {
  const oidc = props.authMode === "oidc_auth";
  const ssoError = useSsoError();
  return (
    <main id="main" class="sign-in">
      <section class="card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Berth</h1>
        {ssoError ? (
          <p class="error" role="alert">
            {ssoError}
          </p>
        ) : null}
        {oidc ? (
          <>
            <a class="button primary sso" href={OIDC_LOGIN_PATH}>
              Sign in with SSO
            </a>
            <p class="help">Your organisation's identity provider signs you in and sends you back here.</p>
            <details class="local-sign-in">
              <summary>Sign in as admin</summary>
              <p class="help">The built-in admin account signs in with its local password.</p>
              <PasswordForm usernameLabel="Username" submitLabel="Sign in" onSignedIn={props.onSignedIn} autoFocus={false} />
            </details>
          </>
        ) : (
          <>
            <PasswordForm
              usernameLabel={props.authMode === "ldap_auth" ? "LDAP username" : "Username"}
              submitLabel="Sign in"
              onSignedIn={props.onSignedIn}
              autoFocus
            />
            {props.authMode === "ldap_auth" ? <p class="help">Directory users sign in with their LDAP password; the built-in admin with its local one.</p> : null}
          </>
        )}
      </section>
    </main>
  );
}
