import { useState } from "preact/hooks";

/**
 * Row actions of a list (enable, change a role…): runs one write at a time, keeps the API's error to show, and bumps
 * `version` after a success so the list reloads (use it in PagedTable's reloadKey).
 */
export function useAction() {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setVersion((v) => v + 1);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  /** Reloads without a write (after a dialog created something). */
  const reload = () => setVersion((v) => v + 1);
  return { error, busy, version, run, reload };
}
