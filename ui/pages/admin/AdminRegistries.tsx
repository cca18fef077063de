import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../../api/client";
import type { RegistryEndpoint } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Dialog } from "../../components/Dialog";
import { ErrorMessage } from "../../components/ErrorMessage";
import { ManagedBadge } from "../../components/ManagedBadge";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { managedObject } from "../../lib/use-project-gitops";
import { useSystemGitOps } from "../../lib/use-system-gitops";
import { AdminFrame } from "./AdminFrame";

const API = "/api/v2.0/registries";

/** An unsaved endpoint's fields, in Harbor's Registry shape (for create and for "Test connection"). */
function endpointOf(form: HTMLFormElement) {
  const data = new FormData(form);
  const field = (name: string) => String(data.get(name) ?? "");
  return {
    name: field("name").trim(),
    type: field("type"),
    description: field("description"),
    url: field("url").trim(),
    insecure: data.get("verify") !== "on",
    credential: { type: "basic", access_key: field("access_key"), access_secret: field("access_secret") },
  };
}

function NewEndpointDialog(props: { onClose: () => void; onCreated: () => void }) {
  const adapters = useApi(() => getJson<string[]>("/api/v2.0/replication/adapters"), "adapters");
  const [error, setError] = useState<Error | null>(null);
  const [tested, setTested] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (form: HTMLFormElement, what: "test" | "create") => {
    setError(null);
    setTested(null);
    setBusy(true);
    try {
      if (what === "test") {
        await send(`${API}/ping`, "POST", endpointOf(form));
        setTested("Connection tested successfully.");
      } else {
        await send(API, "POST", endpointOf(form));
        props.onCreated();
        return;
      }
    } catch (caught) {
      setError(caught as Error);
    }
    setBusy(false);
  };
  return (
    <Dialog title="New registry endpoint" onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void act(event.currentTarget, "create");
        }}
      >
        <label for="endpoint-type">Provider</label>
        <select id="endpoint-type" name="type">
          {(adapters.state === "ok" ? adapters.value : ["docker-registry"]).map((type) => (
            <option value={type}>{type}</option>
          ))}
        </select>
        <label for="endpoint-name">Name</label>
        <input id="endpoint-name" name="name" required maxLength={64} autoFocus />
        <label for="endpoint-description">Description</label>
        <input id="endpoint-description" name="description" />
        <label for="endpoint-url">Endpoint URL</label>
        <input id="endpoint-url" name="url" type="url" required placeholder="https://registry.example.com" />
        <label for="endpoint-key">Access ID</label>
        <input id="endpoint-key" name="access_key" autoComplete="off" />
        <label for="endpoint-secret">Access secret</label>
        <input id="endpoint-secret" name="access_secret" type="password" autoComplete="new-password" />
        <label class="checkbox">
          <input type="checkbox" name="verify" checked /> Verify remote certificate
        </label>
        <ErrorMessage error={error} />
        {tested ? (
          <p class="success" role="status">
            {tested}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" disabled={busy} onClick={(event) => void act((event.currentTarget as HTMLButtonElement).form!, "test")}>
            Test connection
          </button>
          <button type="submit" class="primary" disabled={busy}>
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Health(props: { endpoint: RegistryEndpoint }) {
  const { status, status_message: message, checked_time: checked } = props.endpoint;
  return (
    <span class={`health health-${status}`} title={checked ? `Checked ${formatDate(checked)}` : undefined}>
      {status}
      {message ? <span class="muted"> ({message})</span> : null}
    </span>
  );
}

function Registries() {
  const gitops = useSystemGitOps("registry");
  const [changed, setChanged] = useState(0);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<RegistryEndpoint | null>(null);
  const [ping, setPing] = useState<{ name: string; error: Error | null } | null>(null);
  const done = () => {
    setCreating(false);
    setDeleting(null);
    setChanged((n) => n + 1);
  };
  const test = (endpoint: RegistryEndpoint) =>
    void send(`${API}/ping`, "POST", { id: endpoint.id }).then(
      () => setPing({ name: endpoint.name, error: null }),
      (error: Error) => setPing({ name: endpoint.name, error }),
    );
  const columns: Column<RegistryEndpoint>[] = [
    {
      header: "Name",
      cell: (r) => (
        <span class="managed">
          {r.name} <ManagedBadge object={managedObject(gitops, "registry", r.name)} gitops={gitops} />
        </span>
      ),
    },
    { header: "Status", cell: (r) => <Health endpoint={r} /> },
    { header: "Endpoint URL", cell: (r) => r.url },
    { header: "Provider", cell: (r) => r.type },
    { header: "Verify remote cert", cell: (r) => (r.insecure ? "No" : "Yes") },
    { header: "Creation time", cell: (r) => formatDate(r.creation_time) },
    {
      header: "Actions",
      cell: (r) => (
        <span class="row-actions">
          <button type="button" class="small" onClick={() => test(r)} aria-label={`Test connection to ${r.name}`}>
            Test connection
          </button>
          <button type="button" class="small" onClick={() => setDeleting(r)} aria-label={`Delete ${r.name}`}>
            Delete
          </button>
        </span>
      ),
    },
  ];
  return (
    <>
      <div class="page-head">
        <h2>Registries</h2>
        <span class="row-actions">
          <button type="button" onClick={() => setChanged((n) => n + 1)}>
            Refresh
          </button>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New endpoint
          </button>
        </span>
      </div>
      {ping ? (
        ping.error ? (
          <p class="error" role="alert">
            {ping.name}: {ping.error.message}
          </p>
        ) : (
          <p class="success" role="status">
            {ping.name}: connection tested successfully.
          </p>
        )
      ) : null}
      <PagedTable<RegistryEndpoint>
        caption="Registry endpoints"
        columns={columns}
        load={(page, size) => getPage<RegistryEndpoint>(API, page, size)}
        rowKey={(r) => r.id}
        reloadKey={String(changed)}
        empty="No registry endpoints: add one to replicate to or from it."
      />
      {creating ? <NewEndpointDialog onClose={() => setCreating(false)} onCreated={done} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete registry endpoint"
          message={`Delete the endpoint ${deleting.name}? It cannot be deleted while a replication policy or proxy cache uses it.`}
          confirm="Delete"
          action={() => send(`${API}/${deleting.id}`, "DELETE")}
          onClose={() => setDeleting(null)}
          onDone={done}
        />
      ) : null}
    </>
  );
}

/** Administration › Registries: replication endpoints with their last health check; add, test, delete. */
export function AdminRegistries() {
  return (
    <AdminFrame page="registries">
      <Registries />
    </AdminFrame>
  );
}
