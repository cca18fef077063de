import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../../api/client";
import type { GcRun, GcSchedule } from "../../api/types";
import { ErrorMessage } from "../../components/ErrorMessage";
import { LogDialog } from "../../components/LogDialog";
import { cronOf, ScheduleFields } from "../../components/ScheduleFields";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { AdminFrame } from "./AdminFrame";

const API = "/api/v2.0/system/gc";

function parameters(json: string): { delete_untagged?: boolean; dry_run?: boolean } {
  try {
    return JSON.parse(json) as { delete_untagged?: boolean; dry_run?: boolean };
  } catch {
    return {};
  }
}

/** The schedule as stored, editable: Harbor's types, a 6-field cron for Custom, and whether untagged artifacts go. */
function ScheduleForm(props: { current: GcSchedule; onSaved: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError(null);
    setSaved(false);
    try {
      await send(`${API}/schedule`, "PUT", {
        // As a cron (Harbor's "Custom"): the server shows it again by the type it stands for.
        schedule: cronOf(form) ? { type: "Custom", cron: cronOf(form) } : { type: "None" },
        parameters: { delete_untagged: form.get("delete_untagged") === "on" },
      });
      setSaved(true);
      props.onSaved();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form class="schedule" onSubmit={onSubmit}>
      <ScheduleFields id="gc-schedule" label="Schedule to GC" cron={props.current.schedule.cron} />
      <label class="checkbox">
        <input type="checkbox" name="delete_untagged" checked={parameters(props.current.job_parameters).delete_untagged !== false} /> Allow garbage collection on untagged
        artifacts
      </label>
      <p class="help">
        {props.current.schedule.type === "None" ? "No schedule." : `Current schedule: ${props.current.schedule.type} (${props.current.schedule.cron})`}
        {props.current.update_time ? `, set ${formatDate(props.current.update_time)}` : ""}
      </p>
      <ErrorMessage error={error} />
      {saved ? (
        <p class="success" role="status">
          Schedule saved.
        </p>
      ) : null}
      <div class="toolbar">
        <button type="submit">Save schedule</button>
      </div>
    </form>
  );
}

function Gc() {
  const [changed, setChanged] = useState(0);
  const [log, setLog] = useState<GcRun | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [deleteUntagged, setDeleteUntagged] = useState(true);
  const schedule = useApi(() => getJson<GcSchedule>(`${API}/schedule`), `schedule\n${changed}`);
  const refresh = () => setChanged((n) => n + 1);
  const runNow = (dryRun: boolean) => {
    setError(null);
    void send(`${API}/schedule`, "POST", { schedule: { type: "Manual" }, parameters: { delete_untagged: deleteUntagged, dry_run: dryRun } }).then(refresh, setError);
  };
  const columns: Column<GcRun>[] = [
    { header: "Job ID", numeric: true, cell: (r) => r.id },
    { header: "Trigger type", cell: (r) => r.job_kind },
    { header: "Dry run", cell: (r) => (parameters(r.job_parameters).dry_run ? "Yes" : "No") },
    { header: "Status", cell: (r) => r.job_status },
    { header: "Creation time", cell: (r) => formatDate(r.creation_time) },
    { header: "Update time", cell: (r) => formatDate(r.update_time) },
    {
      header: "Logs",
      cell: (r) => (
        <button type="button" class="small" onClick={() => setLog(r)} aria-label={`Log of GC ${r.id}`}>
          Log
        </button>
      ),
    },
  ];
  return (
    <>
      <h2>Garbage collection</h2>
      {schedule.state === "error" ? <ErrorMessage error={schedule.error} /> : null}
      {schedule.state === "ok" ? <ScheduleForm key={changed} current={schedule.value} onSaved={refresh} /> : null}
      <div class="toolbar">
        <label class="checkbox">
          <input type="checkbox" checked={deleteUntagged} onChange={(event) => setDeleteUntagged((event.currentTarget as HTMLInputElement).checked)} /> Delete untagged
          artifacts in this run
        </label>
        <button type="button" class="primary" onClick={() => runNow(false)}>
          GC now
        </button>
        <button type="button" onClick={() => runNow(true)}>
          Dry run
        </button>
      </div>
      <ErrorMessage error={error} />
      <div class="page-head">
        <h2 class="section-title">GC history</h2>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <PagedTable<GcRun>
        caption="Garbage collection runs"
        columns={columns}
        load={(page, size) => getPage<GcRun>(API, page, size)}
        rowKey={(r) => r.id}
        reloadKey={String(changed)}
        empty="No garbage collection has run yet."
      />
      {log ? <LogDialog title={`Log of GC ${log.id}`} path={`${API}/${log.id}/log`} onClose={() => setLog(null)} /> : null}
    </>
  );
}

/** Administration › Garbage Collection: the schedule, a run now (or a dry run), and past runs with their logs. */
export function AdminGc() {
  return (
    <AdminFrame page="gc">
      <Gc />
    </AdminFrame>
  );
}
