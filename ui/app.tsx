import { useEffect, useState } from "preact/hooks";
import { whenSessionLost } from "./api/client";
import { loadSession, signOut, type Session } from "./api/session";
import type { AuthMode } from "./api/types";
import { ErrorMessage } from "./components/ErrorMessage";
import { Shell } from "./components/Shell";
import { SignIn } from "./pages/SignIn";
import { matchRoute, navigate, useLocation } from "./lib/router";
import { SessionContext } from "./lib/session-context";
import { ROUTES } from "./routes";

type State = { kind: "loading" } | { kind: "signed-out"; authMode: AuthMode } | { kind: "signed-in"; session: Session } | { kind: "failed"; error: Error };

function Page() {
  const { path } = useLocation();
  for (const route of ROUTES) {
    const params = matchRoute(route.pattern, path);
    if (params) return route.render(params);
  }
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
    </section>
  );
}

/** The whole UI: the session decides between the sign-in form and the shell with the current page. */
export function App() {
  const [state, setState] = useState<State>({ kind: "loading" });
  const refresh = () =>
    void loadSession().then(
      ({ session, authMode }) => setState(session ? { kind: "signed-in", session } : { kind: "signed-out", authMode }),
      (error: Error) => setState({ kind: "failed", error }),
    );
  useEffect(() => {
    // The auth mode is asked again: the sign-in page shows the way in the registry offers.
    whenSessionLost(refresh);
    refresh();
  }, []);
  const { path } = useLocation();
  useEffect(() => {
    if (state.kind === "signed-in" && path === "/") navigate("/projects", { replace: true });
  }, [state.kind, path]);

  switch (state.kind) {
    case "loading":
      return <p aria-busy="true">Loading…</p>;
    case "failed":
      return <ErrorMessage error={state.error} />;
    case "signed-out":
      return <SignIn authMode={state.authMode} onSignedIn={refresh} />;
    case "signed-in":
      return (
        <SessionContext.Provider value={state.session}>
          <Shell onSignOut={() => void signOut().then(refresh, (error: Error) => setState({ kind: "failed", error }))}>
            <Page />
          </Shell>
        </SessionContext.Provider>
      );
  }
}
