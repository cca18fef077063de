import { useState } from "preact/hooks";

/**
 * A write the user started (a form submitted, a confirm clicked, a row action): one at a time, busy while it runs,
 * the API's error kept to show as written. After a success `version` grows (a list's reloadKey: it reloads) and
 * `done` runs (a dialog closes).
 */
export function useAction(done?: () => void) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
      return;
    }
    setBusy(false);
    setVersion((v) => v + 1);
    done?.();
  };
  /** Reloads without a write (after a dialog created something). */
  const reload = () => setVersion((v) => v + 1);
  return { error, busy, version, run, reload, setError };
}
