import { useState } from "preact/hooks";
import { getPage } from "../api/client";
import type { AuditLogEntry, Project } from "../api/types";
import { PagedTable, type Column } from "../components/PagedTable";
import { formatDate } from "../lib/format";

/** The fields Harbor's log filter offers, as q= keys. */
const FIELDS = [
  { key: "username", label: "Username" },
  { key: "resource", label: "Resource" },
  { key: "resource_type", label: "Resource type" },
  { key: "operation", label: "Operation" },
];

const COLUMNS: Column<AuditLogEntry>[] = [
  { header: "Username", cell: (l) => l.username },
  { header: "Resource", cell: (l) => l.resource },
  { header: "Resource type", cell: (l) => l.resource_type },
  { header: "Operation", cell: (l) => l.operation },
  { header: "Result", cell: (l) => (l.operation_result ? "Success" : "Failure") },
  { header: "Description", cell: (l) => <span class="wrap">{l.operation_description}</span> },
  { header: "Timestamp", cell: (l) => formatDate(l.op_time) },
];

/** The project's audit log, newest first, paged, filtered by one field as Harbor's q= ("operation=~delete"). */
export function ProjectLogs(props: { project: Project }) {
  const { project } = props;
  const [filter, setFilter] = useState({ key: "username", value: "" });
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilter({ key: String(form.get("field")), value: String(form.get("value") ?? "").trim() });
  };
  const q = filter.value ? `?q=${encodeURIComponent(`${filter.key}=~${filter.value}`)}` : "";
  const base = `/api/v2.0/projects/${project.project_id}/logs${q}`;
  return (
    <section aria-label="Logs">
      <form class="search" role="search" onSubmit={onSubmit}>
        <label for="log-value">Filter the logs</label>
        <select id="log-field" name="field" aria-label="Filter by">
          {FIELDS.map((field) => (
            <option value={field.key} selected={field.key === filter.key}>
              {field.label}
            </option>
          ))}
        </select>
        <input id="log-value" name="value" type="search" value={filter.value} />
        <button type="submit">Search</button>
      </form>
      <PagedTable<AuditLogEntry>
        caption={`Logs of ${project.name}`}
        columns={COLUMNS}
        load={(page, size) => getPage<AuditLogEntry>(base, page, size)}
        rowKey={(l) => l.id}
        reloadKey={base}
        empty={filter.value ? "No log entries match." : "No log entries yet."}
      />
    </section>
  );
}
