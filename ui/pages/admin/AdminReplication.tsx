import { useState } from "preact/hooks";
import { getPage, send } from "../../api/client";
import type { ReplicationExecution, ReplicationPolicy, ReplicationTask } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorMessage } from "../../components/ErrorMessage";
import { LogDialog } from "../../components/LogDialog";
import { ManagedBadge } from "../../components/ManagedBadge";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { managedObject } from "../../lib/use-project-gitops";
import { useSystemGitOps } from "../../lib/use-system-gitops";
import { AdminFrame } from "./AdminFrame";

const API = "/api/v2.0/replication";

/** Harbor's words for where a policy replicates: the local registry is the registry with id 0. */
const mode = (p: ReplicationPolicy) => (p.src_registry.id === 0 ? "Push-based" : "Pull-based");
const registryName = (r: { id: number; name: string }) => (r.id === 0 ? "Local" : r.name || `#${r.id}`);

/** One execution's tasks (one per artifact or tag copied or deleted), paged by the API, each with its log. */
function ExecutionTasks(props: { execution: ReplicationExecution; onClose: () => void }) {
  const [log, setLog] = useState<ReplicationTask | null>(null);
  const base = `${API}/executions/${props.execution.id}/tasks`;
  const columns: Column<ReplicationTask>[] = [
    { header: "Resource type", cell: (t) => t.resource_type },
    { header: "Resource", cell: (t) => t.src_resource },
    { header: "Destination", cell: (t) => t.dst_resource },
    { header: "Operation", cell: (t) => t.operation },
    { header: "Status", cell: (t) => t.status },
    { header: "Start time", cell: (t) => formatDate(t.start_time) },
    { header: "End time", cell: (t) => formatDate(t.end_time) },
    {
      header: "Logs",
      cell: (t) => (
        <button type="button" class="small" onClick={() => setLog(t)} aria-label={`Log of task ${t.id}`}>
          Log
        </button>
      ),
    },
  ];
  return (
    <section class="run-details" aria-labelledby="execution-tasks-title">
      <div class="page-head">
        <h3 id="execution-tasks-title">
          Tasks of execution {props.execution.id}: {props.execution.status}
        </h3>
        <button type="button" onClick={props.onClose}>
          Close execution {props.execution.id}
        </button>
      </div>
      {props.execution.status_text ? <p class="muted">{props.execution.status_text}</p> : null}
      <PagedTable<ReplicationTask>
        caption={`Tasks of execution ${props.execution.id}`}
        columns={columns}
        load={(page, size) => getPage<ReplicationTask>(base, page, size)}
        rowKey={(t) => t.id}
        reloadKey={base}
        empty="No tasks: nothing matched the policy's filters."
      />
      {log ? <LogDialog title={`Log of task ${log.id}`} path={`${base}/${log.id}/log`} onClose={() => setLog(null)} /> : null}
    </section>
  );
}

function Replication() {
  const gitops = useSystemGitOps("replication");
  const [changed, setChanged] = useState(0);
  const [deleting, setDeleting] = useState<ReplicationPolicy | null>(null);
  const [open, setOpen] = useState<ReplicationExecution | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const refresh = () => setChanged((n) => n + 1);
  const replicate = (policy: ReplicationPolicy) => {
    setError(null);
    void send(`${API}/executions`, "POST", { policy_id: policy.id }).then(refresh, setError);
  };
  const policyColumns: Column<ReplicationPolicy>[] = [
    {
      header: "Name",
      cell: (p) => (
        <>
          <span class="managed">
            {p.name} <ManagedBadge object={managedObject(gitops, "replication", p.name)} gitops={gitops} />
          </span>
          <span class="cell-note">{p.filters.map((f) => `${f.type}: ${f.value}`).join("; ") || "all repositories"}</span>
        </>
      ),
    },
    { header: "Status", cell: (p) => (p.enabled ? "Enabled" : "Disabled") },
    { header: "Source registry", cell: (p) => registryName(p.src_registry) },
    { header: "Replication mode", cell: (p) => mode(p) },
    { header: "Destination registry", cell: (p) => registryName(p.dest_registry) },
    { header: "Destination namespace", cell: (p) => p.dest_namespace || <span class="muted">—</span> },
    { header: "Trigger", cell: (p) => (p.trigger.type === "scheduled" ? `scheduled (${p.trigger.trigger_settings.cron})` : p.trigger.type) },
    {
      header: "Actions",
      cell: (p) => (
        <span class="row-actions">
          {p.enabled ? (
            <button type="button" class="small" onClick={() => replicate(p)} aria-label={`Replicate ${p.name}`}>
              Replicate
            </button>
          ) : null}
          <button type="button" class="small" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
            Delete
          </button>
        </span>
      ),
    },
  ];
  const executionColumns: Column<ReplicationExecution>[] = [
    { header: "ID", numeric: true, cell: (e) => e.id },
    { header: "Policy", numeric: true, cell: (e) => e.policy_id },
    { header: "Status", cell: (e) => e.status },
    { header: "Trigger", cell: (e) => e.trigger },
    { header: "Start time", cell: (e) => formatDate(e.start_time) },
    { header: "End time", cell: (e) => formatDate(e.end_time) },
    { header: "Success rate", cell: (e) => (e.total === 0 ? "—" : `${Math.round((e.succeed / e.total) * 100)}%`) },
    { header: "Total", numeric: true, cell: (e) => e.total },
    {
      header: "Tasks",
      cell: (e) => (
        <button type="button" class="small" onClick={() => setOpen(e)} aria-label={`Tasks of execution ${e.id}`}>
          Tasks
        </button>
      ),
    },
  ];
  return (
    <>
      <div class="page-head">
        <h2>Replication policies</h2>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      <PagedTable<ReplicationPolicy>
        caption="Replication policies"
        columns={policyColumns}
        load={(page, size) => getPage<ReplicationPolicy>(`${API}/policies`, page, size)}
        rowKey={(p) => p.id}
        reloadKey={String(changed)}
        empty="No replication policies."
      />
      <h2 class="section-title">Executions</h2>
      <PagedTable<ReplicationExecution>
        caption="Replication executions"
        columns={executionColumns}
        load={(page, size) => getPage<ReplicationExecution>(`${API}/executions`, page, size)}
        rowKey={(e) => e.id}
        reloadKey={String(changed)}
        empty="No executions yet."
      />
      {open ? <ExecutionTasks key={open.id} execution={open} onClose={() => setOpen(null)} /> : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete replication policy"
          message={`Delete the replication policy ${deleting.name}? Its executions go with it.`}
          confirm="Delete"
          action={() => send(`${API}/policies/${deleting.id}`, "DELETE")}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            refresh();
          }}
        />
      ) : null}
    </>
  );
}

/** Administration › Replications: the policies (run one now, delete) and their executions with tasks and task logs. */
export function AdminReplication() {
  return (
    <AdminFrame page="replication">
      <Replication />
    </AdminFrame>
  );
}
