import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../api/client";
import type { Permission, Project, WebhookEvents, WebhookExecution, WebhookPolicy, WebhookTask } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FormDialog } from "../components/FormDialog";
import { ListTab } from "../components/ListTab";
import { PagedTable, type Column } from "../components/PagedTable";
import { formatDate } from "../lib/format";
import { can } from "../lib/permissions";
import { useAction } from "../lib/use-action";
import { useApi } from "../lib/use-api";

/** Add or edit a policy. The auth header is write-only: left empty on edit, the stored one is kept. */
function PolicyDialog(props: { base: string; policy: WebhookPolicy | null; onClose: () => void; onSaved: () => void }) {
  const events = useApi(() => getJson<WebhookEvents>(`${props.base}/events`), props.base);
  const { policy } = props;
  const target = policy?.targets[0];
  const save = async (form: FormData) => {
    const authHeader = String(form.get("auth_header") ?? "");
    const body = {
      name: String(form.get("name") ?? "").trim(),
      description: String(form.get("description") ?? ""),
      enabled: form.get("enabled") === "on",
      event_types: form.getAll("event_type").map(String),
      targets: [
        {
          type: "http",
          address: String(form.get("address") ?? "").trim(),
          payload_format: String(form.get("payload_format") ?? "Default"),
          skip_cert_verify: form.get("skip_cert_verify") === "on",
          // Absent keeps the stored header (the API never returns it); a new value replaces it.
          ...(authHeader !== "" || !policy ? { auth_header: authHeader } : {}),
        },
      ],
    };
    await (policy ? send(`${props.base}/policies/${policy.id}`, "PUT", body) : send(`${props.base}/policies`, "POST", body));
    props.onSaved();
  };
  const formats = events.state === "ok" ? (events.value.payload_formats.find((f) => f.notify_type === "http")?.formats ?? ["Default"]) : ["Default"];
  return (
    <FormDialog title={policy ? `Edit webhook ${policy.name}` : "Add webhook"} submitLabel={policy ? "Save" : "Add"} onSubmit={save} onClose={props.onClose}>
      <label for="webhook-name">Name</label>
      <input id="webhook-name" name="name" required autoFocus defaultValue={policy?.name ?? ""} />
      <label for="webhook-description">Description</label>
      <input id="webhook-description" name="description" defaultValue={policy?.description ?? ""} />
      <fieldset class="choices">
        <legend>Event type</legend>
        {events.state === "error" ? <ErrorMessage error={events.error} /> : null}
        {events.state === "ok"
          ? events.value.event_type.map((type) => (
              <label class="checkbox">
                <input type="checkbox" name="event_type" value={type} defaultChecked={policy ? policy.event_types.includes(type) : true} /> {type}
              </label>
            ))
          : null}
      </fieldset>
      <label for="webhook-address">Endpoint URL</label>
      <input id="webhook-address" name="address" type="url" required placeholder="https://hooks.example.com/berth" defaultValue={target?.address ?? ""} />
      <label for="webhook-format">Payload format</label>
      <select id="webhook-format" name="payload_format">
        {formats.map((format) => (
          <option value={format} selected={format === (target?.payload_format ?? "Default")}>
            {format}
          </option>
        ))}
      </select>
      <label for="webhook-auth">Auth header</label>
      <input id="webhook-auth" name="auth_header" type="password" autoComplete="off" aria-describedby="webhook-auth-help" />
      <p id="webhook-auth-help" class="help">
        Sent as the Authorization header.{target?.has_auth_header ? " One is set; leave empty to keep it." : ""} It is never shown again.
      </p>
      <label class="checkbox">
        <input type="checkbox" name="skip_cert_verify" defaultChecked={target?.skip_cert_verify ?? false} /> Skip certificate verification
      </label>
      <label class="checkbox">
        <input type="checkbox" name="enabled" defaultChecked={policy?.enabled ?? true} /> Enabled
      </label>
    </FormDialog>
  );
}

/** The attempts of one delivery (Harbor's tasks of an execution). */
function Attempts(props: { url: string }) {
  const tasks = useApi(() => getJson<WebhookTask[]>(props.url), props.url);
  if (tasks.state === "error") return <ErrorMessage error={tasks.error} />;
  if (tasks.state === "loading") return <p aria-busy="true">Loading…</p>;
  return (
    <ol class="attempts">
      {tasks.value.map((task) => (
        <li>
          Attempt {task.run_count}: {task.status}
          {task.extra_attrs.status_code ? ` (HTTP ${task.extra_attrs.status_code})` : ""}, {formatDate(task.start_time)} – {formatDate(task.end_time)}
          {task.status_message ? <span class="muted"> — {task.status_message}</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** Deliveries of one policy (Harbor's executions), each opening to its attempts. */
function Deliveries(props: { base: string; policy: WebhookPolicy }) {
  const url = `${props.base}/policies/${props.policy.id}/executions`;
  const [open, setOpen] = useState<number | null>(null);
  const columns: Column<WebhookExecution>[] = [
    { header: "ID", numeric: true, cell: (e) => e.id },
    { header: "Event type", cell: (e) => e.extra_attrs.event_type },
    { header: "Status", cell: (e) => e.status },
    { header: "Attempts", numeric: true, cell: (e) => e.metrics.attempts },
    { header: "Start time", cell: (e) => formatDate(e.start_time) },
    { header: "End time", cell: (e) => formatDate(e.end_time) },
    {
      header: "Details",
      cell: (e) => (
        <button type="button" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)} aria-label={`Attempts of delivery ${e.id}`}>
          {open === e.id ? "Hide attempts" : "Attempts"}
        </button>
      ),
    },
  ];
  return (
    <section aria-label={`Deliveries of ${props.policy.name}`} class="sub-section">
      <h3>Deliveries of {props.policy.name}</h3>
      <PagedTable<WebhookExecution>
        caption={`Deliveries of ${props.policy.name}`}
        columns={columns}
        load={(page, size) => getPage<WebhookExecution>(url, page, size)}
        rowKey={(e) => e.id}
        reloadKey={url}
        empty="Nothing delivered yet."
      />
      {open !== null ? (
        <div class="attempts-panel">
          <h4>Attempts of delivery {open}</h4>
          <Attempts url={`${url}/${open}/tasks`} />
        </div>
      ) : null}
    </section>
  );
}

type Editing = { policy: WebhookPolicy | null } | null;

/** The project's webhook policies (Harbor's Webhooks tab) and their deliveries. */
export function ProjectWebhooks(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const base = `/api/v2.0/projects/${project.project_id}/webhook`;
  const action = useAction();
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<WebhookPolicy | null>(null);
  const [shown, setShown] = useState<WebhookPolicy | null>(null);
  const mayUpdate = can(permissions, "notification-policy", "update");
  const mayDelete = can(permissions, "notification-policy", "delete");
  const toggle = (policy: WebhookPolicy) =>
    // Targets go back without auth_header, which keeps the stored ones.
    action.run(() =>
      send(`${base}/policies/${policy.id}`, "PUT", {
        ...policy,
        enabled: !policy.enabled,
        targets: policy.targets.map(({ type, address, skip_cert_verify, payload_format }) => ({ type, address, skip_cert_verify, payload_format })),
      }),
    );
  const columns: Column<WebhookPolicy>[] = [
    { header: "Name", cell: (p) => p.name },
    { header: "Enabled", cell: (p) => (p.enabled ? "Enabled" : "Disabled") },
    { header: "Notify type", cell: (p) => p.targets.map((t) => t.type).join(", ") },
    { header: "Target", cell: (p) => p.targets.map((t) => t.address).join(", ") },
    { header: "Event types", cell: (p) => <span class="wrap">{p.event_types.join(", ")}</span> },
    { header: "Creator", cell: (p) => p.creator },
    { header: "Creation time", cell: (p) => formatDate(p.creation_time) },
    {
      header: "Actions",
      cell: (p) => (
        <span class="row-actions">
          <button type="button" onClick={() => setShown(shown?.id === p.id ? null : p)} aria-pressed={shown?.id === p.id} aria-label={`Deliveries of ${p.name}`}>
            Deliveries
          </button>
          {mayUpdate ? (
            <>
              <button type="button" onClick={() => setEditing({ policy: p })} aria-label={`Edit ${p.name}`}>
                Edit
              </button>
              <button type="button" disabled={action.busy} onClick={() => void toggle(p)} aria-label={`${p.enabled ? "Disable" : "Enable"} ${p.name}`}>
                {p.enabled ? "Disable" : "Enable"}
              </button>
            </>
          ) : null}
          {mayDelete ? (
            <button type="button" class="danger" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
              Delete
            </button>
          ) : null}
        </span>
      ),
    },
  ];
  return (
    <ListTab<WebhookPolicy>
      label="Webhooks"
      create={can(permissions, "notification-policy", "create") ? { label: "New webhook", onClick: () => setEditing({ policy: null }) } : null}
      action={action}
      caption={`Webhooks of ${project.name}`}
      columns={columns}
      load={(page, size) => getPage<WebhookPolicy>(`${base}/policies`, page, size)}
      rowKey={(p) => p.id}
      empty="No webhooks."
    >
      {shown ? <Deliveries base={base} policy={shown} /> : null}
      {editing ? (
        <PolicyDialog
          base={base}
          policy={editing.policy}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            action.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete webhook"
          message={`Delete the webhook ${deleting.name}? Events are no longer sent to its target.`}
          confirm="Delete"
          onClose={() => setDeleting(null)}
          action={async () => {
            await send(`${base}/policies/${deleting.id}`, "DELETE");
            if (shown?.id === deleting.id) setShown(null);
            setDeleting(null);
            action.reload();
          }}
        />
      ) : null}
    </ListTab>
  );
}
