import { useEffect, useState } from "preact/hooks";

export type Loaded<T> = { state: "loading" } | { state: "ok"; value: T } | { state: "error"; error: Error };

/** Runs `load` when `key` changes and keeps the latest answer; an older answer arriving late is dropped. */
export function useApi<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    let current = true;
    setResult({ state: "loading" });
    load().then(
      (value) => current && setResult({ state: "ok", value }),
      (error: Error) => current && setResult({ state: "error", error }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return result;
}
