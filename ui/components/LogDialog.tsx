import { request } from "../api/client";
import { useApi } from "../lib/use-api";
import { Dialog } from "./Dialog";
import { ErrorMessage } from "./ErrorMessage";

/** A job's text log (GC runs, replication tasks), asked for as text and shown as the server wrote it. */
export function LogDialog(props: { title: string; path: string; onClose: () => void }) {
  const log = useApi(async () => (await request(props.path, { headers: { Accept: "text/plain" } })).text(), props.path);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      {log.state === "error" ? <ErrorMessage error={log.error} /> : null}
      {log.state === "loading" ? <p aria-busy="true">Loading…</p> : null}
      {log.state === "ok" ? (
        <pre class="log" tabIndex={0} aria-label={props.title}>
          {log.value || "(empty log)"}
        </pre>
      ) : null}
      <div class="actions">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
