import { randomUUID } from "node:crypto";
import type { Queryable } from "../db/sql";
import type { Inventory } from "./inventory";
import type { ReportCounts, ScanStatus, VulnerabilityReport } from "./report/harbor";

export type ScanType = "vulnerability" | "sbom";

export interface ScanRow {
  id: string;
  digest: string;
  repository: string;
  scanner: string;
  scan_type: ScanType;
  status: ScanStatus;
  status_message: string;
  trigger: string;
  queued_at: Date;
  start_time: Date | null;
  end_time: Date | null;
  generation: number | null;
  /** The report's counts (vulnerability scans that succeeded), or the SBOM's digest (SBOM scans). */
  summary: (ReportCounts & { sbom_digest?: undefined }) | { sbom_digest: string; severity?: undefined } | null;
}

/** What a finished vulnerability scan keeps: the image's inventory (for re-matching) and the report. */
export interface StoredInventory {
  /** The OSV ecosystem of the image's OS packages (`Debian:12`), null when the OS is unknown. */
  osEcosystem: string | null;
  inventory: Inventory;
}

export interface ScanResult extends ScanRow {
  inventory: StoredInventory | null;
  report: VulnerabilityReport | Record<string, unknown> | null;
}

/** JSON for a jsonb column: PostgreSQL's jsonb cannot hold U+0000, which a layer's file contents may carry. */
function jsonb(value: unknown): string {
  // A replacer costs a call per value (a report has tens of thousands): only when a U+0000 is there to drop.
  const text = JSON.stringify(value);
  if (!text.includes("\\u0000")) return text;
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "string" && item.includes("\u0000") ? item.replaceAll("\u0000", "") : item));
}

/** A Running scan whose node stopped renewing it this long ago is queued again (the node died mid-scan). */
const CLAIM_LAPSE = "10 minutes";

const ROW_COLUMNS = `id, digest, repository, scanner, scan_type, status, status_message, trigger, queued_at, start_time, end_time,
  generation::int AS generation, summary`;

/**
 * The scans of artifacts, kept in the database so every node shares them: the queue (Pending rows, claimed with
 * SKIP LOCKED so two nodes never take the same), each scan's state, and its result. One row per artifact digest,
 * scanner and scan type, as Harbor keeps one report per artifact and scanner.
 */
export class ScanStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Queues a scan of `digest` (a new row, or the existing one made Pending again). A scan already queued or running
   * is left as it is: `queued` is false then. Its earlier report stays readable until the new one replaces it.
   */
  async enqueue(
    digest: string,
    repository: string,
    scanner: string,
    scanType: ScanType,
    trigger: string,
    /** Only when the artifact has no scan yet (a push of a known image under a new tag is not scanned again). */
    onlyNew = false,
  ): Promise<{ id: string; queued: boolean }> {
    const conflict = onlyNew
      ? "DO NOTHING"
      : `DO UPDATE
          SET status = 'Pending', status_message = '', repository = EXCLUDED.repository, trigger = EXCLUDED.trigger,
              queued_at = now(), claimed_by = NULL, claimed_at = NULL
        WHERE scan_reports.status NOT IN ('Pending', 'Running')`;
    const [row] = await this.db.query<{ id: string; queued: boolean }>(
      `INSERT INTO scan_reports (id, digest, repository, scanner, scan_type, status, trigger)
       VALUES ($1, $2, $3, $4, $5, 'Pending', $6)
       ON CONFLICT (digest, scanner, scan_type) ${conflict}
       RETURNING id, true AS queued`,
      [randomUUID(), digest, repository, scanner, scanType, trigger],
    );
    if (row) return row;
    const [existing] = await this.db.query<{ id: string }>("SELECT id FROM scan_reports WHERE digest = $1 AND scanner = $2 AND scan_type = $3", [
      digest,
      scanner,
      scanType,
    ]);
    return { id: existing.id, queued: false };
  }

  /** Scans queued with `trigger` since `since`, by status (scan-all progress). */
  async countsSince(trigger: string, since: Date): Promise<Partial<Record<ScanStatus, number>>> {
    const rows = await this.db.query<{ status: ScanStatus; count: number }>(
      "SELECT status, count(*)::int AS count FROM scan_reports WHERE trigger = $1 AND queued_at >= $2 GROUP BY status",
      [trigger, since],
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }

  /**
   * Queues vulnerability scans of pushed artifacts in one statement: only image manifests (media type and config
   * type among `imageTypes`), only digests with no scan by `scanner` yet. Returns how many were queued.
   */
  async enqueuePushed(
    items: Array<{ repository: string; digest: string }>,
    scanner: string,
    imageTypes: { manifests: readonly string[]; configs: readonly string[] },
  ): Promise<number> {
    const rows = await this.db.query(
      `INSERT INTO scan_reports (id, digest, repository, scanner, scan_type, status, trigger)
       SELECT gen_random_uuid()::text, m.digest, r.name, $3, 'vulnerability', 'Pending', 'EVENT'
         FROM unnest($1::text[], $2::text[]) AS p(repository, digest)
         JOIN repositories r ON r.name = p.repository
         JOIN manifests m ON m.repository_id = r.id AND m.digest = p.digest
        WHERE m.media_type = ANY($4::text[]) AND m.artifact_type = ANY($5::text[])
       ON CONFLICT (digest, scanner, scan_type) DO NOTHING
       RETURNING id`,
      [items.map((item) => item.repository), items.map((item) => item.digest), scanner, imageTypes.manifests, imageTypes.configs],
    );
    return rows.length;
  }

  /** How many scans wait (for the queue bound). */
  async pendingCount(): Promise<number> {
    const [{ count }] = await this.db.query<{ count: number }>("SELECT count(*)::int AS count FROM scan_reports WHERE status = 'Pending'");
    return count;
  }

  /** Takes the oldest waiting scan for `node`, or null. Running scans of a node that died are waiting again. */
  async claim(node: string): Promise<ScanRow | null> {
    await this.db.query(
      `UPDATE scan_reports SET status = 'Pending', claimed_by = NULL, claimed_at = NULL
        WHERE status = 'Running' AND claimed_at < now() - interval '${CLAIM_LAPSE}'`,
    );
    const [row] = await this.db.query<ScanRow>(
      `UPDATE scan_reports SET status = 'Running', start_time = now(), end_time = NULL, claimed_by = $1, claimed_at = now()
        WHERE id = (SELECT id FROM scan_reports WHERE status = 'Pending' ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${ROW_COLUMNS}`,
      [node],
    );
    return row ?? null;
  }

  /** Renews the claims this node holds, so they do not lapse during a long scan. */
  async renew(node: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.query("UPDATE scan_reports SET claimed_at = now() WHERE claimed_by = $1 AND id = ANY($2::text[]) AND status = 'Running'", [node, ids]);
  }

  /** Stores a finished scan, unless it was stopped (or re-queued) meanwhile; false then. */
  async succeed(
    id: string,
    inventory: StoredInventory | null,
    report: unknown,
    summary: ScanRow["summary"],
    generation: number | null,
    /** The image's packages as the vulnerability database keys them (changeKey), for re-matching only what changed. */
    keys: string[] | null = null,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE scan_reports SET status = 'Success', status_message = '', end_time = now(), claimed_by = NULL, claimed_at = NULL,
              inventory = $2::jsonb, report = $3::jsonb, summary = $4::jsonb, generation = $5, keys = $6::text[]
        WHERE id = $1 AND status = 'Running' RETURNING id`,
      [id, inventory === null ? null : jsonb(inventory), jsonb(report), summary === null ? null : JSON.stringify(summary), generation, keys],
    );
    return rows.length > 0;
  }

  async fail(id: string, message: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE scan_reports SET status = 'Error', status_message = $2, end_time = now(), claimed_by = NULL, claimed_at = NULL
        WHERE id = $1 AND status = 'Running' RETURNING id`,
      [id, message.slice(0, 1000)],
    );
    return rows.length > 0;
  }

  /** Stops a queued or running scan of `digest`; the rows stopped. */
  async stop(digest: string, scanner: string, scanType: ScanType): Promise<ScanRow[]> {
    return this.db.query<ScanRow>(
      `UPDATE scan_reports SET status = 'Stopped', status_message = 'stopped by request', end_time = now(), claimed_by = NULL, claimed_at = NULL
        WHERE digest = $1 AND scanner = $2 AND scan_type = $3 AND status IN ('Pending', 'Running')
       RETURNING ${ROW_COLUMNS}`,
      [digest, scanner, scanType],
    );
  }

  async status(id: string): Promise<ScanStatus | null> {
    const [row] = await this.db.query<{ status: ScanStatus }>("SELECT status FROM scan_reports WHERE id = $1", [id]);
    return row?.status ?? null;
  }

  /** The scans of `digests` by `scanner`, without their (large) reports. */
  rows(digests: string[], scanner: string, scanType: ScanType): Promise<ScanRow[]> {
    return this.db.query<ScanRow>(`SELECT ${ROW_COLUMNS} FROM scan_reports WHERE digest = ANY($1::text[]) AND scanner = $2 AND scan_type = $3`, [
      digests,
      scanner,
      scanType,
    ]);
  }

  async result(digest: string, scanner: string, scanType: ScanType): Promise<ScanResult | null> {
    const [row] = await this.db.query<ScanResult>(
      `SELECT ${ROW_COLUMNS}, inventory, report FROM scan_reports WHERE digest = $1 AND scanner = $2 AND scan_type = $3`,
      [digest, scanner, scanType],
    );
    return row ?? null;
  }

  /** Finished vulnerability scans matched against an older database than `generation`, oldest first. */
  stale(scanner: string, generation: number, limit: number): Promise<Array<{ id: string; digest: string; repository: string; inventory: StoredInventory }>> {
    return this.db.query(
      `SELECT id, digest, repository, inventory FROM scan_reports
        WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success' AND inventory IS NOT NULL
          AND (generation IS NULL OR generation < $2)
        ORDER BY id LIMIT $3`,
      [scanner, generation, limit],
    );
  }

  /** The oldest generation a finished report of `scanner` behind `generation` was matched at (null: none such). */
  async oldestStale(scanner: string, generation: number): Promise<number | null> {
    const [row] = await this.db.query<{ oldest: string | null }>(
      `SELECT min(generation) AS oldest FROM scan_reports
        WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success' AND keys IS NOT NULL AND generation < $2`,
      [scanner, generation],
    );
    return row?.oldest == null ? null : Number(row.oldest);
  }

  /** The oldest generation any finished report of `scanner` was matched at (null: none). */
  async oldestGeneration(scanner: string): Promise<number | null> {
    const [row] = await this.db.query<{ oldest: string | null }>(
      "SELECT min(generation) AS oldest FROM scan_reports WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success'",
      [scanner],
    );
    return row?.oldest == null ? null : Number(row.oldest);
  }

  /**
   * Moves reports matched at `from` or later to `to` when none of their packages is among `changed` (every change
   * after `from`): their findings cannot differ, so they are not read or rewritten. Returns how many moved.
   */
  async advanceUnaffected(scanner: string, from: number, to: number, changed: string[]): Promise<number> {
    const rows = await this.db.query(
      `UPDATE scan_reports SET generation = $3
        WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success' AND keys IS NOT NULL
          AND generation >= $2 AND generation < $3 AND NOT (keys && $4::text[])
       RETURNING id`,
      [scanner, from, to, changed],
    );
    return rows.length;
  }

  /** Replaces re-matched reports in one statement, except those of scans started again meanwhile. */
  async rematched(rows: Array<{ id: string; report: unknown; summary: ReportCounts }>, generation: number): Promise<void> {
    if (rows.length === 0) return;
    // A parameter per value, not arrays: the driver would escape every report (hundreds of kB) into an array literal.
    const values = rows.map((_row, i) => `($${3 * i + 2}, $${3 * i + 3}::jsonb, $${3 * i + 4}::jsonb)`).join(", ");
    await this.db.query(
      `UPDATE scan_reports s SET report = u.report, summary = u.summary, generation = $1
         FROM (VALUES ${values}) AS u(id, report, summary)
        WHERE s.id = u.id AND s.status = 'Success'`,
      [generation, ...rows.flatMap((row) => [row.id, jsonb(row.report), JSON.stringify(row.summary)])],
    );
  }

  /** The cached inventory of a layer in this `version` of the layer walk, or null. */
  async layerInventory<T>(digest: string, version: number): Promise<T | null> {
    const [row] = await this.db.query<{ inventory: T }>("SELECT inventory FROM layer_inventories WHERE digest = $1 AND version = $2", [digest, version]);
    return row?.inventory ?? null;
  }

  async saveLayerInventory(digest: string, version: number, inventory: unknown): Promise<void> {
    await this.db.query(
      `INSERT INTO layer_inventories (digest, version, inventory) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (digest) DO UPDATE SET version = EXCLUDED.version, inventory = EXCLUDED.inventory, created_at = now()`,
      [digest, version, jsonb(inventory)],
    );
  }
}
