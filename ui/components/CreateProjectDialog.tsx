import { useState } from "preact/hooks";
import { send } from "../api/client";
import { Dialog } from "./Dialog";
import { FormFooter } from "./FormFooter";

/** POST /api/v2.0/projects; the server checks the name and the caller's right, and its message is shown as written. */
export function CreateProjectDialog(props: { onClose: () => void; onCreated: (name: string) => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const name = String(form.get("project_name") ?? "").trim();
    setBusy(true);
    try {
      await send("/api/v2.0/projects", "POST", { project_name: name, metadata: { public: form.get("public") === "on" ? "true" : "false" } });
      props.onCreated(name);
    } catch (caught) {
      setError(caught as Error);
      setBusy(false);
    }
  };
  return (
    <Dialog title="New project" onClose={props.onClose}>
      <form onSubmit={onSubmit}>
        <label for="project-name">Project name</label>
        <input id="project-name" name="project_name" required maxLength={255} autoFocus aria-describedby="project-name-help" />
        <p id="project-name-help" class="help">
          Lower case letters, digits and . _ - (starting with a letter or digit).
        </p>
        <label class="checkbox">
          <input type="checkbox" name="public" /> Public (anyone may pull)
        </label>
        <FormFooter error={error} busy={busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
