import { randomUUID } from "node:crypto";
import type { Queryable, Sql } from "../db/sql";
import type { Inventory } from "./inventory";
import { subjectOfKey, summarizeGroups, type JudgedPackage, type Judgement } from "./osv/match";
import type { HarborSeverity } from "./osv/severity";
import { vulnerabilityReport, type ReportArtifact, type ReportCounts, type ScannerInfo, type ScanStatus, type VulnerabilityReport } from "./report/harbor";
import { FINDING_COLUMNS, findingOfRow, STORED_FINDINGS, type FindingRow } from "./stored-findings";
import { changeKey } from "./vulndb/store";

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

/** An image's inventory with the OS ecosystem its OS packages are matched in. */
export interface StoredInventory {
  /** The OSV ecosystem of the image's OS packages (`Debian:12`), null when the OS is unknown. */
  osEcosystem: string | null;
  inventory: Inventory;
}

export interface ScanResult extends ScanRow {
  report: VulnerabilityReport | Record<string, unknown> | null;
}

/**
 * What the embedded scanner stores of an image it matched: the report's heading (its findings are the packages'
 * judgements, joined when read), the image's packages naming their judgements, the judgements it made (the others
 * it found stored), the database generation, and the packages as vulndb_changes keys them (keys).
 */
export interface MatchedImage {
  heading: ReportHeading;
  packages: JudgedPackage[];
  judgements: Map<string, Judgement>;
  generation: number;
  keys: string[];
}

/** A scan relied on stored judgements that were dropped before it stored its packages: judge them all again. */
export class JudgementsGoneError extends Error {}

/** A report of the embedded scanner without its findings. */
export interface ReportHeading {
  generated_at: string;
  artifact: ReportArtifact;
  scanner: ScannerInfo;
}

/** A judgement of a package version, by its key (judgementKey), as re-matching reads them back. */
export interface StoredJudgement {
  key: string;
  change_key: string;
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
  constructor(private readonly db: Sql) {}

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
  async succeed(id: string, report: unknown, summary: ScanRow["summary"]): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE scan_reports SET status = 'Success', status_message = '', end_time = now(), claimed_by = NULL, claimed_at = NULL,
              inventory = NULL, report = $2::jsonb, summary = $3::jsonb, generation = NULL, keys = NULL
        WHERE id = $1 AND status = 'Running' RETURNING id`,
      [id, jsonb(report), summary === null ? null : JSON.stringify(summary)],
    );
    return rows.length > 0;
  }

  /**
   * Stores the embedded scanner's match of an image: its packages (replacing those of an earlier scan), the
   * judgements they name where none as new is stored, and the report's heading and counts. `running` (a scan): only
   * while the scan still runs, false when it was stopped or queued again meanwhile; otherwise (a report matched
   * again from its stored inventory) only while the report stands.
   */
  async succeedMatched(id: string, matched: MatchedImage, running = true): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const done = await tx.query(
        `UPDATE scan_reports SET status = 'Success', status_message = '', end_time = ${running ? "now()" : "end_time"}, claimed_by = NULL, claimed_at = NULL,
                inventory = NULL, report = $2::jsonb, generation = $3, keys = $4::text[]
          WHERE id = $1 AND status = '${running ? "Running" : "Success"}' RETURNING id`,
        [id, jsonb(matched.heading), matched.generation, matched.keys],
      );
      if (done.length === 0) return false;
      await saveJudgements(tx, matched.generation, matched.judgements);
      // The judgements found stored are held until the packages naming them are in (a prune would wait, then fail).
      const relied = [...new Set(matched.packages.map((pkg) => pkg.judgement))].filter((key) => !matched.judgements.has(key)).sort();
      if (relied.length > 0) {
        const held = await tx.query("SELECT key FROM scan_judgements WHERE key = ANY($1::text[]) ORDER BY key FOR KEY SHARE", [relied]);
        if (held.length < relied.length) throw new JudgementsGoneError(`${relied.length - held.length} stored judgement(s) were dropped meanwhile`);
      }
      await tx.query("DELETE FROM scan_packages WHERE report_id = $1", [id]);
      await tx.query(
        `INSERT INTO scan_packages (report_id, judgement, ecosystem, name, version, path, purl)
         SELECT $1, judgement, ecosystem, name, version, path, purl
           FROM jsonb_to_recordset($2::jsonb) AS p(judgement text, ecosystem text, name text, version text, path text, purl text)`,
        [id, jsonb(matched.packages)],
      );
      await storeCounts(tx, [id]);
      return true;
    });
  }

  /** Which of these judgements are stored as of `generation` or later (the others a scan must make). */
  async currentJudgements(keys: string[], generation: number): Promise<Set<string>> {
    const rows = await this.db.query<{ key: string }>("SELECT key FROM scan_judgements WHERE key = ANY($1::text[]) AND generation >= $2", [keys, generation]);
    return new Set(rows.map((row) => row.key));
  }

  /**
   * Stores judgements made against `generation` in place of older ones (a judgement as new or newer stays): the
   * judgements of every report holding those package versions change at once.
   */
  async saveJudgements(generation: number, judgements: Map<string, Judgement>): Promise<void> {
    await this.db.transaction((tx) => saveJudgements(tx, generation, judgements));
  }

  /** Judgements older than `generation` whose records changed (`changeKeys`; null: whatever their records), a batch. */
  staleJudgements(generation: number, changeKeys: string[] | null, limit: number): Promise<StoredJudgement[]> {
    return this.db.query(
      `SELECT key, change_key FROM scan_judgements
        WHERE generation < $1 AND ($2::text[] IS NULL OR change_key = ANY($2::text[]))
        ORDER BY key LIMIT $3`,
      [generation, changeKeys, limit],
    );
  }

  /** The oldest generation a stored judgement was made against (null: none stored). */
  async oldestJudgement(): Promise<number | null> {
    const [row] = await this.db.query<{ oldest: string | null }>("SELECT min(generation) AS oldest FROM scan_judgements");
    return row?.oldest == null ? null : Number(row.oldest);
  }

  /** Moves the judgements older than `generation` to it: those whose records changed are judged again first. */
  async advanceJudgements(generation: number): Promise<void> {
    await this.db.query("UPDATE scan_judgements SET generation = $1 WHERE generation < $1", [generation]);
  }

  /** Drops judgements no package names any more (their images' reports are gone). */
  async pruneJudgements(): Promise<void> {
    try {
      await this.db.query("DELETE FROM scan_judgements j WHERE NOT EXISTS (SELECT 1 FROM scan_packages p WHERE p.judgement = j.key)");
    } catch (error) {
      // A scan that stored packages naming one meanwhile keeps it (foreign key): the next prune takes the rest.
      if ((error as { code?: string }).code !== "23503") throw error;
    }
  }

  /**
   * Counts the findings of these reports again from their packages' judgements as they are now, and moves them to
   * `generation`. The reports are locked first, so a scan storing new packages of one meanwhile goes first or after.
   */
  async recount(ids: string[], generation: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      const locked = await tx.query<{ id: string }>("SELECT id FROM scan_reports WHERE id = ANY($1::text[]) AND status = 'Success' ORDER BY id FOR UPDATE", [ids]);
      await storeCounts(tx, locked.map((row) => row.id), generation);
    });
  }

  /** The findings of an embedded scan's report from its packages' judgements, in no order. */
  async storedFindings(reportId: string) {
    const rows = await this.db.query<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM ${STORED_FINDINGS} WHERE p.report_id = $1`, [reportId]);
    return rows.map(findingOfRow);
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

  /**
   * The scan of `digest` by `scanner` with its report: as the scanner sent it (an adapter's, an SBOM's), or the
   * embedded scanner's built from the judgements of its packages as they are now.
   */
  async result(digest: string, scanner: string, scanType: ScanType): Promise<ScanResult | null> {
    const [row] = await this.db.query<ScanResult>(`SELECT ${ROW_COLUMNS}, report FROM scan_reports WHERE digest = $1 AND scanner = $2 AND scan_type = $3`, [
      digest,
      scanner,
      scanType,
    ]);
    if (!row) return null;
    if (row.status !== "Success" || !isHeading(row.report)) return row;
    const { artifact, scanner: info, generated_at } = row.report;
    return { ...row, report: vulnerabilityReport(artifact, info, await this.storedFindings(row.id), new Date(generated_at)) };
  }

  /** Reports stored whole with the image's inventory (before findings were kept per package version), a batch. */
  legacy(scanner: string, limit: number): Promise<Array<{ id: string; digest: string; repository: string; inventory: StoredInventory; report: { artifact?: ReportArtifact } | null }>> {
    return this.db.query(
      `SELECT id, digest, repository, inventory, jsonb_build_object('artifact', report->'artifact') AS report FROM scan_reports
        WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success' AND inventory IS NOT NULL
        ORDER BY id LIMIT $2`,
      [scanner, limit],
    );
  }

  /** Finished vulnerability scans counted against an older database than `generation`, a batch of ids. */
  async stale(scanner: string, generation: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM scan_reports
        WHERE scanner = $1 AND scan_type = 'vulnerability' AND status = 'Success' AND inventory IS NULL AND keys IS NOT NULL
          AND generation < $2
        ORDER BY id LIMIT $3`,
      [scanner, generation, limit],
    );
    return rows.map((row) => row.id);
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

/** The heading the embedded scanner stores for a report whose findings are kept per package version. */
function isHeading(report: unknown): report is ReportHeading {
  return typeof report === "object" && report !== null && "generated_at" in report && !("vulnerabilities" in report);
}

/**
 * Stores judgements made against `generation` in place of older ones, in key order (two writers lock the same rows in
 * the same order). The row of a judgement as new or newer is locked, not changed: it stays while the caller's
 * transaction stores packages naming it.
 */
async function saveJudgements(tx: Queryable, generation: number, judgements: Map<string, Judgement>): Promise<void> {
  if (judgements.size === 0) return;
  const rows = [...judgements.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, judgement]) => ({ key, change_key: changeKeyOfJudgement(key), invalid: judgement.invalid ?? null }));
  const written = await tx.query<{ key: string }>(
    `INSERT INTO scan_judgements (key, change_key, generation, invalid)
     SELECT key, change_key, $1, invalid FROM jsonb_to_recordset($2::jsonb) AS j(key text, change_key text, invalid text)
     ON CONFLICT (key) DO UPDATE SET generation = EXCLUDED.generation, invalid = EXCLUDED.invalid
       WHERE scan_judgements.generation < EXCLUDED.generation
     RETURNING key`,
    [generation, jsonb(rows)],
  );
  if (written.length === 0) return;
  const keys = written.map((row) => row.key);
  await tx.query("DELETE FROM scan_advisories WHERE judgement = ANY($1::text[])", [keys]);
  const advisories = keys.flatMap((key) =>
    judgements.get(key)!.advisories.map((advisory) => ({
      judgement: key,
      id: advisory.id,
      severity: advisory.severity,
      fix_version: advisory.fix_version,
      score_v3: advisory.preferred_cvss?.score_v3 ?? null,
      vector_v3: advisory.preferred_cvss?.vector_v3 ?? null,
      description: advisory.description,
      links: advisory.links,
      ids: advisory.ids,
    })),
  );
  if (advisories.length === 0) return;
  await tx.query(
    `INSERT INTO scan_advisories (judgement, id, severity, fix_version, score_v3, vector_v3, description, links, ids)
     SELECT judgement, id, severity, fix_version, score_v3, vector_v3, description, links, ids
       FROM jsonb_to_recordset($1::jsonb)
         AS a(judgement text, id text, severity text, fix_version text, score_v3 float8, vector_v3 text, description text, links jsonb, ids jsonb)`,
    [jsonb(advisories)],
  );
}

/** The vulndb_changes key of the records a judgement asked. */
function changeKeyOfJudgement(key: string): string {
  const subject = subjectOfKey(key);
  return changeKey(subject.osvEcosystem, subject.name);
}

/**
 * Counts the findings of these reports from their packages' judgements as stored now and keeps the counts; with
 * `generation`, also moves them to it and notes when they were counted (generated_at). Rows whose counts and
 * generation stay as they were are not written.
 */
async function storeCounts(tx: Queryable, ids: string[], generation?: number): Promise<void> {
  if (ids.length === 0) return;
  const groups = await tx.query<{ report_id: string; severity: HarborSeverity; total: number; fixable: number }>(
    `SELECT p.report_id, a.severity, count(*)::int AS total, (count(*) FILTER (WHERE a.fix_version <> ''))::int AS fixable
       FROM ${STORED_FINDINGS}
      WHERE p.report_id = ANY($1::text[])
      GROUP BY p.report_id, a.severity`,
    [ids],
  );
  const byReport = new Map<string, typeof groups>(ids.map((id) => [id, []]));
  for (const group of groups) byReport.get(group.report_id)!.push(group);
  const updates = [...byReport].map(([id, found]) => ({ id, summary: summarizeGroups(found) }));
  const moved = generation === undefined ? "" : ", generation = $2, report = jsonb_set(coalesce(s.report, '{}'::jsonb), '{generated_at}', to_jsonb($3::text))";
  await tx.query(
    `UPDATE scan_reports s SET summary = u.summary${moved}
       FROM jsonb_to_recordset($1::jsonb) AS u(id text, summary jsonb)
      WHERE s.id = u.id AND (s.summary IS DISTINCT FROM u.summary${generation === undefined ? "" : " OR s.generation IS DISTINCT FROM $2"})`,
    generation === undefined ? [JSON.stringify(updates)] : [JSON.stringify(updates), generation, new Date().toISOString()],
  );
}
