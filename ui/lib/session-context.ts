import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Session } from "../api/session";

/** The signed-in session, for every page under the shell (pages are rendered only when signed in). */
export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
