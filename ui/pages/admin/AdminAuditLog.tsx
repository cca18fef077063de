import { getPage } from "../../api/client";
import type { AuditLogEntry } from "../../api/types";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { navigate, useLocation } from "../../lib/router";
import { AdminFrame } from "./AdminFrame";

const OPERATIONS = ["create", "update", "delete", "pull"];
/** The resource types Berth records (registry/audit/audit-log.ts AuditResourceType). */
const RESOURCE_TYPES = [
  "artifact", "blob", "configuration", "controller-source", "cve-allowlist", "export-cve", "gc", "immutable-tag-rule", "label", "member", "project",
  "purge-audit", "registry", "replication-policy", "repository", "retention-policy", "robot", "scan", "scanner", "tag", "user",
  "vulnerability-database", "webhook-policy",
];
const FILTERS = ["username", "operation", "resource", "resource_type", "from", "to"] as const;

/** A datetime-local value (the browser's time zone) as the UTC time the API's range bounds read. */
const utc = (local: string) => (local ? new Date(local).toISOString().slice(0, 19) + "Z" : "");

/**
 * Harbor's `q` from the filters: names and resources by substring, operation and type exactly, and the time range
 * as op_time=[from~to] (either end may stay open). Commas separate terms, so they cannot be searched for.
 */
function queryOf(filters: URLSearchParams): string {
  const get = (key: string) => (filters.get(key) ?? "").replace(/,/g, "").trim();
  const terms = [
    get("username") && `username=~${get("username")}`,
    get("operation") && `operation=${get("operation")}`,
    get("resource") && `resource=~${get("resource")}`,
    get("resource_type") && `resource_type=${get("resource_type")}`,
    (get("from") || get("to")) && `op_time=[${utc(get("from"))}~${utc(get("to"))}]`,
  ].filter(Boolean);
  return terms.length ? `?q=${encodeURIComponent(terms.join(","))}` : "";
}

const COLUMNS: Column<AuditLogEntry>[] = [
  { header: "Username", cell: (e) => e.username },
  { header: "Resource", cell: (e) => <span class="wrap">{e.resource}</span> },
  { header: "Resource type", cell: (e) => e.resource_type },
  { header: "Operation", cell: (e) => e.operation },
  { header: "Description", cell: (e) => <span class="wrap">{e.operation_description}</span> },
  { header: "Result", cell: (e) => (e.operation_result ? "Success" : "Failure") },
  { header: "Timestamp", cell: (e) => formatDate(e.op_time) },
];

function AuditLog() {
  const { query } = useLocation();
  const value = (key: string) => query.get(key) ?? "";
  const q = queryOf(query);
  // The filters are part of the address (reload, back and a shared link keep them); they hold nothing secret.
  const onFilter = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      const v = String(form.get(key) ?? "").trim();
      if (v) next.set(key, v);
    }
    const search = next.toString();
    navigate(search ? `/admin/audit-log?${search}` : "/admin/audit-log", { replace: true });
  };
  return (
    <>
      <h2>Audit log</h2>
      <form class="filters" role="search" aria-label="Filter the audit log" onSubmit={onFilter} key={query.toString()}>
        <div>
          <label for="audit-username">Username</label>
          <input id="audit-username" name="username" value={value("username")} />
        </div>
        <div>
          <label for="audit-operation">Operation</label>
          <select id="audit-operation" name="operation" value={value("operation")}>
            <option value="">All operations</option>
            {OPERATIONS.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-resource">Resource</label>
          <input id="audit-resource" name="resource" value={value("resource")} />
        </div>
        <div>
          <label for="audit-resource-type">Resource type</label>
          <select id="audit-resource-type" name="resource_type" value={value("resource_type")}>
            <option value="">All resource types</option>
            {RESOURCE_TYPES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-from">From</label>
          <input id="audit-from" name="from" type="datetime-local" value={value("from")} />
        </div>
        <div>
          <label for="audit-to">To</label>
          <input id="audit-to" name="to" type="datetime-local" value={value("to")} />
        </div>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Filter
          </button>
          <button type="button" onClick={() => navigate("/admin/audit-log", { replace: true })}>
            Clear
          </button>
        </div>
      </form>
      <PagedTable<AuditLogEntry>
        caption="Audit log"
        columns={COLUMNS}
        load={(page, size) => getPage<AuditLogEntry>(`/api/v2.0/audit-logs${q}`, page, size)}
        rowKey={(e) => e.id}
        reloadKey={q}
        empty={q ? "No record matches these filters." : "No records yet."}
      />
    </>
  );
}

/** Administration › Audit Log: every recorded change and pull, newest first, filtered as Harbor's q= allows. */
export function AdminAuditLog() {
  return (
    <AdminFrame page="audit-log">
      <AuditLog />
    </AdminFrame>
  );
}
