import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../../api/client";
import type { Scanner, VulnDbStatus } from "../../api/types";
import { ErrorMessage } from "../../components/ErrorMessage";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { AdminFrame } from "./AdminFrame";

const COLUMNS: Column<Scanner>[] = [
  {
    header: "Name",
    cell: (s) => (
      <span class="managed">
        {s.name} {s.is_default ? <span class="badge">Default</span> : null}
      </span>
    ),
  },
  { header: "Endpoint", cell: (s) => s.url || <span class="muted">embedded</span> },
  { header: "Enabled", cell: (s) => (s.disabled ? "No" : "Yes") },
  { header: "Adapter", cell: (s) => s.adapter },
  { header: "Vendor", cell: (s) => s.vendor },
  { header: "Version", cell: (s) => s.version },
  { header: "Description", cell: (s) => <span class="wrap">{s.description}</span> },
];

/** The offline vulnerability database the embedded scanner matches against: its sources, freshness and sync. */
function VulnDb() {
  const [changed, setChanged] = useState(0);
  const [syncing, setSyncing] = useState<{ error: Error | null; execution?: number } | null>(null);
  const status = useApi(() => getJson<VulnDbStatus>("/api/v2.0/vulndb"), String(changed));
  const sync = () =>
    void send("/api/v2.0/vulndb/sync", "POST").then(
      async (response) => setSyncing({ error: null, execution: ((await response.json()) as { execution_id: number }).execution_id }),
      (error: Error) => setSyncing({ error }),
    );
  if (status.state === "error") return <ErrorMessage error={status.error} />;
  if (status.state === "loading") return <p aria-busy="true">Loading…</p>;
  const db = status.value;
  return (
    <>
      <dl class="facts">
        <dt>Records</dt>
        <dd>{db.total_records}</dd>
        <dt>Generation</dt>
        <dd>{db.generation}</dd>
        <dt>Mirror sync</dt>
        <dd>{db.sync ? `${db.sync.schedule} (${db.sync.ecosystems.join(", ") || "all ecosystems"})` : "not configured (BERTH_VULNDB_URL unset): import OSV records with POST /api/v2.0/vulndb/import"}</dd>
        <dt>Last sync</dt>
        <dd>{db.last_sync ? `${formatDate(db.last_sync.at)}${db.last_sync.error ? `: failed, ${db.last_sync.error}` : ": succeeded"}` : "never"}</dd>
      </dl>
      <div class="toolbar">
        {db.sync ? (
          <button type="button" onClick={sync}>
            Sync now
          </button>
        ) : null}
        <button type="button" onClick={() => setChanged((n) => n + 1)}>
          Refresh
        </button>
      </div>
      {syncing?.error ? <ErrorMessage error={syncing.error} /> : null}
      {syncing && !syncing.error ? (
        <p class="success" role="status">
          Sync started (execution {syncing.execution}).
        </p>
      ) : null}
      <div class="table-scroll">
        <table>
          <caption class="visually-hidden">Vulnerability database sources</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col" class="numeric">
                Records
              </th>
              <th scope="col">Newest record</th>
              <th scope="col">Imported</th>
            </tr>
          </thead>
          <tbody>
            {db.sources.map((source) => (
              <tr key={source.name}>
                <td>{source.name}</td>
                <td class="numeric">{source.records}</td>
                <td>{formatDate(source.newest_modified)}</td>
                <td>{formatDate(source.imported_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {db.sources.length === 0 ? <p class="empty">Nothing imported yet: scans find no vulnerabilities until records are imported.</p> : null}
    </>
  );
}

/** Administration › Scanners: the registered scanners (the embedded one first) and the vulnerability database. */
export function AdminScanners() {
  return (
    <AdminFrame page="scanners">
      <h2>Scanners</h2>
      <PagedTable<Scanner> caption="Scanners" columns={COLUMNS} load={(page, size) => getPage<Scanner>("/api/v2.0/scanners", page, size)} rowKey={(s) => s.uuid} reloadKey="" empty="No scanners." />
      <h2 class="section-title">Vulnerability database</h2>
      <VulnDb />
    </AdminFrame>
  );
}
