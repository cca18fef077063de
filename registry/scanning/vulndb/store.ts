import type { Queryable, Sql } from "../../db/sql";
import type { VulnerabilitySource } from "../osv/match";
import type { OsvRecord } from "../osv/types";
import { candidatesFromPath, type Candidate, type InputKind, type ReadLimits } from "./reader";
import { checkRecord, indexedName, type PackageKey } from "./records";

/** What one import did. */
export interface ImportResult {
  source: string;
  /** Records written: new, or newer than the stored version. */
  imported: number;
  /** Records whose stored version is as new or newer. */
  skipped: number;
  /** Records (or files, or zip entries) that could not be read or lack what matching needs. */
  invalid: number;
  /** The first few problems: the record's id or where it was, and why. */
  errors: { where: string; reason: string }[];
  /** The database's generation after the import. */
  generation: number;
}

export interface SourceStatus {
  name: string;
  records: number;
  newest_modified: string | null;
  imported_at: string;
  age_seconds: number;
  last_import: { imported: number; skipped: number; invalid: number };
}

export interface VulnDbStatus {
  generation: number;
  total_records: number;
  sources: SourceStatus[];
  last_sync: { at: string; error: string | null } | null;
}

/** Mirror validators kept per source, so a sync can ask for a zip only if it changed. */
export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export interface VulnDbOptions extends ReadLimits {
  /** Records written per statement and transaction. */
  batchSize?: number;
  /** Keys looked up per prefetch query. */
  prefetchChunk?: number;
}

const MAX_REPORTED_ERRORS = 10;
const DEFAULT_BATCH = 500;
const DEFAULT_PREFETCH_CHUNK = 2000;

interface Pending {
  id: string;
  modified: Date;
  record: OsvRecord;
  keys: PackageKey[];
}

const keyOf = (ecosystem: string, name: string) => `${ecosystem}\u0000${name}`;

const toIso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/**
 * The offline vulnerability database (OSV records in the metadata database): imports, what was imported, and the
 * records matching looks up. Every import that changes something moves the generation on.
 */
/** Past this many changed packages, filtering reports by them costs more than matching them all again. */
const MAX_CHANGED_KEYS = 50_000;

/** How a changed package is named in vulndb_changes and in a report's keys. */
export function changeKey(ecosystem: string, name: string): string {
  return `${ecosystem}\n${name}`;
}

export class VulnDb {
  private readonly batchSize: number;
  private readonly prefetchChunk: number;
  private readonly changeListeners: Array<() => void> = [];

  constructor(
    private readonly sql: Sql,
    private readonly options: VulnDbOptions,
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.prefetchChunk = options.prefetchChunk ?? DEFAULT_PREFETCH_CHUNK;
  }

  /** Calls `listener` after every import on this node that changed records (reports matched before are stale). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Imports a file (all.zip or JSON) or a directory tree of them; throws VulnDbInputError when a file given alone is unreadable. */
  importPath(input: string, source: string, kind?: InputKind): Promise<ImportResult> {
    return this.importCandidates(source, candidatesFromPath(input, this.options, kind));
  }

  /** Imports records already in memory (parsed JSON values; each is checked as any other input). */
  importRecords(source: string, records: Iterable<unknown>): Promise<ImportResult> {
    return this.importCandidates(source, [...records].map((value, i) => ({ value, where: `#${i}` })));
  }

  /** Imports records as read by one of reader.ts's readers, in batches; invalid ones are counted, never fatal. */
  async importCandidates(source: string, candidates: AsyncIterable<Candidate> | Iterable<Candidate>): Promise<ImportResult> {
    const result: ImportResult = { source, imported: 0, skipped: 0, invalid: 0, errors: [], generation: 0 };
    const invalid = (where: string, reason: string) => {
      result.invalid++;
      if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ where, reason });
    };
    let batch = new Map<string, Pending>();
    // The packages the written records named, before and after: what reports must be matched again for.
    const touched = new Set<string>();
    const flush = async () => {
      if (batch.size === 0) return;
      // In id order, so that two imports writing the same records lock them in the same order (no deadlock).
      const written = await this.writeBatch(source, [...batch.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), touched);
      result.imported += written;
      result.skipped += batch.size - written;
      batch = new Map();
    };
    let finished = false;
    try {
      for await (const candidate of candidates) {
        if ("error" in candidate) {
          invalid(candidate.where, candidate.error);
          continue;
        }
        const checked = checkRecord(candidate.value);
        if (!checked.ok) {
          invalid(checked.id ?? candidate.where, checked.reason);
          continue;
        }
        const earlier = batch.get(checked.record.id);
        // The same id twice in one input: the newer wins (and one statement may not write a row twice).
        if (earlier) {
          result.skipped++;
          if (earlier.modified >= checked.modified) continue;
        }
        batch.set(checked.record.id, { id: checked.record.id, modified: checked.modified, record: checked.record, keys: checked.keys });
        if (batch.size >= this.batchSize) await flush();
      }
      await flush();
      finished = true;
    } finally {
      // Also after a failure part-way: what was written is recorded, and the generation moves if anything changed.
      // An input refused before anything was read leaves no trace.
      if (finished || result.imported + result.skipped + result.invalid > 0) result.generation = await this.recordImport(source, result, touched);
    }
    if (result.imported > 0) for (const listener of this.changeListeners) listener();
    return result;
  }

  /** Writes the records newer than their stored versions and their index rows; returns how many were written. */
  private async writeBatch(source: string, records: Pending[], touched: Set<string>): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // Re-imports mostly hold records already stored: only ids and times go to the database for those.
      const stored = await tx.query<{ id: string; modified: Date }>(
        "SELECT id, modified FROM vulndb_records WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
        [JSON.stringify(records.map((r) => r.id))],
      );
      const storedModified = new Map(stored.map((row) => [row.id, new Date(row.modified).getTime()]));
      const newer = records.filter((r) => !(r.modified.getTime() <= (storedModified.get(r.id) ?? -Infinity)));
      if (newer.length === 0) return 0;
      const rows = newer.map((r) => ({ id: r.id, modified: r.modified.toISOString(), record: r.record }));
      const written = await tx.query<{ id: string }>(
        `INSERT INTO vulndb_records (id, modified, record, source)
         SELECT e->>'id', (e->>'modified')::timestamptz, e->'record', $2 FROM jsonb_array_elements($1::jsonb) AS e
         ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, record = excluded.record, source = excluded.source, imported_at = now()
           WHERE excluded.modified > vulndb_records.modified
         RETURNING id`,
        [JSON.stringify(rows), source],
      );
      if (written.length === 0) return 0;
      const ids = new Set(written.map((row) => row.id));
      const changed = newer.filter((r) => ids.has(r.id));
      const before = await tx.query<{ ecosystem: string; name: string }>(
        "DELETE FROM vulndb_affected WHERE record_id IN (SELECT jsonb_array_elements_text($1::jsonb)) RETURNING ecosystem, name",
        [JSON.stringify([...ids])],
      );
      for (const key of before) touched.add(changeKey(key.ecosystem, key.name));
      for (const record of changed) for (const key of record.keys) touched.add(changeKey(key.ecosystem, key.name));
      const keys = changed.flatMap((r) => r.keys.map((k) => [k.ecosystem, k.name, r.id]));
      if (keys.length > 0) {
        await tx.query(
          `INSERT INTO vulndb_affected (ecosystem, name, record_id)
           SELECT e->>0, e->>1, e->>2 FROM jsonb_array_elements($1::jsonb) AS e ON CONFLICT DO NOTHING`,
          [JSON.stringify(keys)],
        );
      }
      return written.length;
    });
  }

  /** Updates the source's row (and every source's count: records move between sources) and, on a change, the generation. */
  private async recordImport(source: string, result: ImportResult, touched: ReadonlySet<string>): Promise<number> {
    return this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO vulndb_sources (name, imported_at, last_imported, last_skipped, last_invalid) VALUES ($1, now(), $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET imported_at = now(), last_imported = $2, last_skipped = $3, last_invalid = $4`,
        [source, result.imported, result.skipped, result.invalid],
      );
      if (result.imported > 0) {
        await refreshSourceCounts(tx);
        const [{ generation }] = await tx.query<{ generation: string }>("UPDATE vulndb_state SET generation = generation + 1 RETURNING generation");
        await tx.query("INSERT INTO vulndb_changes (generation, key) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING", [generation, [...touched]]);
      }
      const [state] = await tx.query<{ generation: string | number }>("SELECT generation FROM vulndb_state");
      return Number(state.generation);
    });
  }

  /**
   * The packages (changeKey) whose records changed after `generation`, or null when that is not known (changes from
   * before they were noted, or pruned) or too many to be worth filtering by: then every report is matched again.
   */
  async changedSince(generation: number, limit = MAX_CHANGED_KEYS): Promise<string[] | null> {
    const [state] = await this.sql.query<{ changes_since: string | null }>("SELECT changes_since FROM vulndb_state");
    if (state.changes_since === null || generation < Number(state.changes_since)) return null;
    const rows = await this.sql.query<{ key: string }>("SELECT DISTINCT key FROM vulndb_changes WHERE generation > $1 LIMIT $2", [generation, limit + 1]);
    return rows.length > limit ? null : rows.map((row) => row.key);
  }

  /** Forgets the changes no report needs any more: those up to `generation` (the oldest any report was matched at). */
  async pruneChanges(generation: number): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query("DELETE FROM vulndb_changes WHERE generation <= $1", [generation]);
      await tx.query("UPDATE vulndb_state SET changes_since = GREATEST(changes_since, $1)", [generation]);
    });
  }

  /** The number that moves whenever an import changes a record: results matched under another number are stale. */
  async generation(): Promise<number> {
    const [state] = await this.sql.query<{ generation: string | number }>("SELECT generation FROM vulndb_state");
    return Number(state.generation);
  }

  async status(): Promise<VulnDbStatus> {
    const [state] = await this.sql.query<{ generation: string | number; last_sync_at: Date | null; last_sync_error: string | null; total: string | number }>(
      "SELECT generation, last_sync_at, last_sync_error, (SELECT count(*) FROM vulndb_records) AS total FROM vulndb_state",
    );
    const sources = await this.sql.query<{
      name: string; records: number; newest_modified: Date | null; imported_at: Date; age: string | number; last_imported: number; last_skipped: number; last_invalid: number;
    }>(
      `SELECT name, records, newest_modified, imported_at, extract(epoch FROM now() - imported_at) AS age, last_imported, last_skipped, last_invalid
       FROM vulndb_sources ORDER BY name`,
    );
    return {
      generation: Number(state.generation),
      total_records: Number(state.total),
      sources: sources.map((s) => ({
        name: s.name,
        records: s.records,
        newest_modified: toIso(s.newest_modified),
        imported_at: toIso(s.imported_at)!,
        age_seconds: Math.max(0, Math.floor(Number(s.age))),
        last_import: { imported: s.last_imported, skipped: s.last_skipped, invalid: s.last_invalid },
      })),
      last_sync: state.last_sync_at ? { at: toIso(state.last_sync_at)!, error: state.last_sync_error } : null,
    };
  }

  /** Records that a sync ran (and how it ended), for status. */
  async recordSync(error: string | null): Promise<void> {
    await this.sql.query("UPDATE vulndb_state SET last_sync_at = now(), last_sync_error = $1", [error]);
  }

  async validators(source: string): Promise<Validators> {
    const [row] = await this.sql.query<{ etag: string | null; last_modified: string | null }>("SELECT etag, last_modified FROM vulndb_sources WHERE name = $1", [source]);
    return { etag: row?.etag ?? null, lastModified: row?.last_modified ?? null };
  }

  async setValidators(source: string, validators: Validators): Promise<void> {
    await this.sql.query("UPDATE vulndb_sources SET etag = $2, last_modified = $3 WHERE name = $1", [source, validators.etag, validators.lastModified]);
  }

  /** Answers each lookup with a query: for a single inventory. For many, prefetch. */
  source(): VulnerabilitySource {
    return {
      recordsFor: async (ecosystem, name) => {
        const rows = await this.sql.query<{ record: OsvRecord }>(
          `SELECT r.record FROM vulndb_affected a JOIN vulndb_records r ON r.id = a.record_id
           WHERE a.ecosystem = $1 AND a.name = $2 ORDER BY r.id`,
          [ecosystem, indexedName(ecosystem, name)],
        );
        return rows.map((row) => row.record);
      },
    };
  }

  /**
   * Loads every record for `keys` in a few queries and answers recordsFor from memory (a key not in `keys`
   * has none): matching many inventories costs a handful of queries instead of one per package.
   */
  async prefetch(keys: Iterable<PackageKey>): Promise<VulnerabilitySource> {
    const wanted = new Map<string, [string, string]>();
    for (const { ecosystem, name } of keys) {
      const indexed = indexedName(ecosystem, name);
      wanted.set(keyOf(ecosystem, indexed), [ecosystem, indexed]);
    }
    const recordIds = new Map<string, string[]>();
    const pairs = [...wanted.values()];
    for (let i = 0; i < pairs.length; i += this.prefetchChunk) {
      const rows = await this.sql.query<{ ecosystem: string; name: string; record_id: string }>(
        `SELECT a.ecosystem, a.name, a.record_id FROM jsonb_array_elements($1::jsonb) AS k
         JOIN vulndb_affected a ON a.ecosystem = k->>0 AND a.name = k->>1`,
        [JSON.stringify(pairs.slice(i, i + this.prefetchChunk))],
      );
      for (const row of rows) {
        const key = keyOf(row.ecosystem, row.name);
        recordIds.set(key, [...(recordIds.get(key) ?? []), row.record_id]);
      }
    }
    const records = new Map<string, OsvRecord>();
    const ids = [...new Set([...recordIds.values()].flat())];
    for (let i = 0; i < ids.length; i += this.prefetchChunk) {
      const rows = await this.sql.query<{ record: OsvRecord }>(
        "SELECT record FROM vulndb_records WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
        [JSON.stringify(ids.slice(i, i + this.prefetchChunk))],
      );
      for (const row of rows) records.set(row.record.id, row.record);
    }
    return {
      recordsFor: async (ecosystem, name) =>
        (recordIds.get(keyOf(ecosystem, indexedName(ecosystem, name))) ?? [])
          .sort()
          .map((id) => records.get(id))
          .filter((record): record is OsvRecord => record !== undefined),
    };
  }
}

async function refreshSourceCounts(tx: Queryable): Promise<void> {
  await tx.query(
    `UPDATE vulndb_sources s SET records = coalesce(c.records, 0), newest_modified = c.newest
     FROM vulndb_sources s2 LEFT JOIN (SELECT source, count(*)::integer AS records, max(modified) AS newest FROM vulndb_records GROUP BY source) c
       ON c.source = s2.name
     WHERE s.name = s2.name`,
  );
}
