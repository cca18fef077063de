import { useState } from "preact/hooks";

/**
 * A write the user started (a form submitted, a confirm clicked): busy while it runs, the API's error kept to show
 * as written; `done` runs only after it succeeded.
 */
export function useAction(done: () => void) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
      return;
    }
    done();
  };
  return { error, busy, run };
}
