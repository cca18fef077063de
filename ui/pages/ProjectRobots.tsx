import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../api/client";
import type { Permission, PermissionCatalogue, Project, Robot } from "../api/types";
import { CopyButton } from "../components/CopyButton";
import { Dialog } from "../components/Dialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FormDialog } from "../components/FormDialog";
import { ManagedBadge, ManagedListNote } from "../components/ManagedBadge";
import { ListTab } from "../components/ListTab";
import type { Column } from "../components/PagedTable";
import { formatDate } from "../lib/format";
import { can } from "../lib/permissions";
import { useAction } from "../lib/use-action";
import { useApi } from "../lib/use-api";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";

const expiry = (robot: Robot) => (robot.expires_at < 0 ? "Never" : formatDate(robot.expires_at * 1000));

/** The robot's name inside the project ("robot$proj+ci" → "ci"), the key the GitOps controller uses after "+". */
const shortName = (robot: Robot) => robot.name.slice(robot.name.indexOf("+") + 1);

const pairCount = (robot: Robot) => robot.permissions.reduce((sum, p) => sum + p.access.length, 0);

/**
 * A robot's secret, right after it was created or refreshed: shown this once, with a copy button. It lives only in
 * this component's props (never in storage or a URL) and is gone when the dialog closes.
 */
function SecretDialog(props: { name: string; secret: string; onClose: () => void }) {
  return (
    <Dialog title={`Secret of ${props.name}`} onClose={props.onClose}>
      <p class="managed-warning" role="note">
        Copy the secret now: it will not be shown again. If it is lost, refresh the secret to get a new one.
      </p>
      <label for="robot-name-shown">Name</label>
      <div class="copy-row">
        <input id="robot-name-shown" readOnly value={props.name} />
        <CopyButton text={props.name} label="the robot's name" />
      </div>
      <label for="robot-secret-shown">Secret</label>
      <div class="copy-row">
        <input id="robot-secret-shown" readOnly value={props.secret} autoComplete="off" spellcheck={false} />
        <CopyButton text={props.secret} label="the secret" />
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

/** Harbor's permission table: one row per resource, one column per action; a box where the pair may be granted. */
function PermissionTable(props: { catalogue: Permission[] }) {
  const resources = [...new Set(props.catalogue.map((p) => p.resource))];
  const actions = [...new Set(props.catalogue.map((p) => p.action))];
  return (
    <div class="table-scroll permission-table">
      <table>
        <caption class="visually-hidden">Permissions</caption>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            {actions.map((action) => (
              <th scope="col">{action}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {resources.map((resource) => (
            <tr>
              <th scope="row">{resource}</th>
              {actions.map((action) => (
                <td>
                  {can(props.catalogue, resource, action) ? (
                    <input type="checkbox" name="access" value={`${resource}:${action}`} aria-label={`${resource} ${action}`} />
                  ) : null}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NewRobotDialog(props: { project: Project; onClose: () => void; onCreated: (name: string, secret: string) => void }) {
  const catalogue = useApi(() => getJson<PermissionCatalogue>("/api/v2.0/permissions"), "catalogue");
  const [never, setNever] = useState(false);
  const create = async (form: FormData) => {
    const access = form.getAll("access").map((pair) => {
      const [resource, action] = String(pair).split(":");
      return { resource, action };
    });
    const response = await send("/api/v2.0/robots", "POST", {
      name: String(form.get("name") ?? "").trim(),
      description: String(form.get("description") ?? ""),
      level: "project",
      duration: never ? -1 : Number(form.get("duration")),
      permissions: [{ kind: "project", namespace: props.project.name, access }],
    });
    const created = (await response.json()) as { name: string; secret: string };
    props.onCreated(created.name, created.secret);
  };
  return (
    <FormDialog title="New robot account" submitLabel="Add" onSubmit={create} onClose={props.onClose}>
      <label for="robot-name">Name</label>
      <input id="robot-name" name="name" required autoFocus aria-describedby="robot-name-help" />
      <p id="robot-name-help" class="help">
        The account is called robot${props.project.name}+&lt;name&gt;.
      </p>
      <label for="robot-description">Description</label>
      <input id="robot-description" name="description" />
      <label for="robot-duration">Expiration time (days)</label>
      <input id="robot-duration" name="duration" type="number" min={1} defaultValue={30} required={!never} disabled={never} />
      <label class="checkbox">
        <input type="checkbox" checked={never} onChange={(e) => setNever((e.currentTarget as HTMLInputElement).checked)} /> Never expires
      </label>
      <h3>Permissions</h3>
      {catalogue.state === "error" ? <ErrorMessage error={catalogue.error} /> : null}
      {catalogue.state === "ok" ? <PermissionTable catalogue={catalogue.value.project} /> : null}
    </FormDialog>
  );
}

type Pending = { kind: "refresh" | "delete"; robot: Robot } | null;

/** The project's robot accounts: listed, created with permissions from the catalogue, refreshed, disabled, deleted. */
export function ProjectRobots(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const gitops = useProjectGitOps(project.name);
  const action = useAction();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const mayUpdate = can(permissions, "robot", "update");
  const mayDelete = can(permissions, "robot", "delete");
  const list = `/api/v2.0/robots?q=${encodeURIComponent(`Level=project,ProjectID=${project.project_id}`)}`;
  const toggle = (robot: Robot) =>
    action.run(() =>
      send(`/api/v2.0/robots/${robot.id}`, "PUT", {
        name: robot.name,
        level: robot.level,
        description: robot.description,
        duration: robot.duration,
        disable: !robot.disable,
      }),
    );
  const columns: Column<Robot>[] = [
    {
      header: "Name",
      cell: (r) => (
        <span class="managed">
          {r.name} <ManagedBadge object={managedObject(gitops, "robot", `${project.name}+${shortName(r)}`)} gitops={gitops} />
        </span>
      ),
    },
    { header: "Status", cell: (r) => (r.disable ? "Disabled" : "Enabled") },
    { header: "Permissions", numeric: true, cell: (r) => pairCount(r) },
    { header: "Creation time", cell: (r) => formatDate(r.creation_time) },
    { header: "Expires", cell: (r) => expiry(r) },
    { header: "Description", cell: (r) => r.description },
  ];
  if (mayUpdate || mayDelete) {
    columns.push({
      header: "Actions",
      cell: (r) => (
        <span class="row-actions">
          {mayUpdate ? (
            <>
              <button type="button" onClick={() => void toggle(r)} disabled={action.busy} aria-label={`${r.disable ? "Enable" : "Disable"} ${r.name}`}>
                {r.disable ? "Enable" : "Disable"}
              </button>
              <button type="button" onClick={() => setPending({ kind: "refresh", robot: r })} aria-label={`Refresh the secret of ${r.name}`}>
                Refresh secret
              </button>
            </>
          ) : null}
          {mayDelete ? (
            <button type="button" class="danger" onClick={() => setPending({ kind: "delete", robot: r })} aria-label={`Delete ${r.name}`}>
              Delete
            </button>
          ) : null}
        </span>
      ),
    });
  }
  const confirm = async () => {
    if (!pending) return;
    const { robot } = pending;
    if (pending.kind === "delete") {
      await send(`/api/v2.0/robots/${robot.id}`, "DELETE");
    } else {
      const answer = (await (await send(`/api/v2.0/robots/${robot.id}`, "PATCH", {})).json()) as { secret: string };
      setSecret({ name: robot.name, secret: answer.secret });
    }
    setPending(null);
    action.reload();
  };
  return (
    <ListTab<Robot>
      label="Robot accounts"
      intro={<ManagedListNote gitops={gitops} kind="robot" what="Robot accounts" />}
      create={can(permissions, "robot", "create") ? { label: "New robot account", onClick: () => setCreating(true) } : null}
      action={action}
      caption={`Robot accounts of ${project.name}`}
      columns={columns}
      load={(page, size) => getPage<Robot>(list, page, size)}
      rowKey={(r) => r.id}
      empty="No robot accounts."
    >
      {creating ? (
        <NewRobotDialog
          project={project}
          onClose={() => setCreating(false)}
          onCreated={(name, value) => {
            setCreating(false);
            setSecret({ name, secret: value });
            action.reload();
          }}
        />
      ) : null}
      {pending ? (
        <ConfirmDialog
          title={pending.kind === "delete" ? "Delete robot account" : "Refresh secret"}
          message={
            pending.kind === "delete"
              ? `Delete ${pending.robot.name}? Clients using it can no longer sign in.`
              : `Give ${pending.robot.name} a new secret? The current one stops working at once.`
          }
          confirm={pending.kind === "delete" ? "Delete" : "Refresh"}
          onClose={() => setPending(null)}
          action={confirm}
        />
      ) : null}
      {secret ? <SecretDialog name={secret.name} secret={secret.secret} onClose={() => setSecret(null)} /> : null}
    </ListTab>
  );
}
