import { rm } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { OutboundGuard } from "../../outbound/address-guard";
import { guardedDispatcher } from "../../outbound/guarded-dispatcher";
import type { JobContext, Scheduler } from "../../scheduler/scheduler";
import type { VulnDbConfig } from "./config";
import { spool } from "./spool";
import type { ImportResult, VulnDb } from "./store";

export const VULNDB_SYNC_JOB = "VULNDB_SYNC";
/** The sync is one system-wide job: its schedule and executions use this vendor id. */
export const VULNDB_SYNC_VENDOR_ID = 0;

export interface SyncDeps {
  vulndb: VulnDb;
  guard: OutboundGuard;
  config: Pick<VulnDbConfig, "url" | "ecosystems" | "maxZipBytes">;
  /** Where downloaded zips are written before they are read. */
  spoolDir: string;
  /** For tests: the fetch to use (the guard's dispatcher is still passed). */
  fetch?: typeof fetch;
}

export type EcosystemOutcome = { ecosystem: string; unchanged: true } | { ecosystem: string; result: ImportResult } | { ecosystem: string; error: string };

const DOWNLOAD_TIMEOUT_MS = 60 * 60_000;

/**
 * Downloads one ecosystem's all.zip from the mirror (through the outbound guard, to a temp file, capped) and
 * imports it under the ecosystem's name. A zip whose ETag or Last-Modified did not change is not downloaded again.
 */
export async function syncEcosystem(deps: SyncDeps, ecosystem: string, signal?: AbortSignal): Promise<EcosystemOutcome> {
  const url = `${deps.config.url}/${encodeURIComponent(ecosystem)}/all.zip`;
  await deps.guard.check(url);
  const known = await deps.vulndb.validators(ecosystem);
  const headers: Record<string, string> = {};
  if (known.etag) headers["If-None-Match"] = known.etag;
  if (known.lastModified) headers["If-Modified-Since"] = known.lastModified;
  const timeout = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  const response = await (deps.fetch ?? fetch)(url, {
    headers,
    redirect: "follow",
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    dispatcher: guardedDispatcher(deps.guard, false),
  } as RequestInit);
  if (response.status === 304) {
    await response.body?.cancel();
    return { ecosystem, unchanged: true };
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > deps.config.maxZipBytes) {
    await response.body.cancel();
    throw new Error(`${url} is ${declared} bytes, more than BERTH_VULNDB_MAX_ZIP_BYTES (${deps.config.maxZipBytes})`);
  }
  const spooled = await spool(deps.spoolDir, Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), deps.config.maxZipBytes, `${url} (BERTH_VULNDB_MAX_ZIP_BYTES)`, "all.zip");
  try {
    const result = await deps.vulndb.importPath(spooled.file, ecosystem, "zip");
    await deps.vulndb.setValidators(ecosystem, { etag: response.headers.get("etag"), lastModified: response.headers.get("last-modified") });
    return { ecosystem, result };
  } finally {
    await spooled.remove();
  }
}

/** Syncs every configured ecosystem; one that fails is logged and the others still run. */
export async function syncAll(deps: SyncDeps, log: (line: string) => Promise<void>, signal?: AbortSignal): Promise<EcosystemOutcome[]> {
  const outcomes: EcosystemOutcome[] = [];
  for (const ecosystem of deps.config.ecosystems) {
    if (signal?.aborted) break;
    let outcome: EcosystemOutcome;
    try {
      outcome = await syncEcosystem(deps, ecosystem, signal);
    } catch (error) {
      outcome = { ecosystem, error: error instanceof Error ? error.message : String(error) };
    }
    outcomes.push(outcome);
    await log(describeOutcome(outcome));
  }
  const failed = outcomes.filter((o) => "error" in o);
  await deps.vulndb.recordSync(failed.length > 0 ? failed.map((o) => `${o.ecosystem}: ${(o as { error: string }).error}`).join("; ").slice(0, 2000) : null);
  return outcomes;
}

export function describeOutcome(outcome: EcosystemOutcome): string {
  if ("unchanged" in outcome) return `${outcome.ecosystem}: unchanged since the last sync`;
  if ("error" in outcome) return `${outcome.ecosystem}: failed: ${outcome.error}`;
  const r = outcome.result;
  return `${outcome.ecosystem}: imported ${r.imported}, skipped ${r.skipped}, invalid ${r.invalid}`;
}

/**
 * Registers the sync job and returns what to run once the server is ready: it clears temp files a stopped process
 * left behind and, when a mirror is configured, sets the job's schedule (each tick runs on one node); without a
 * mirror the schedule is removed.
 */
export function registerVulnDbSync(scheduler: Scheduler, deps: SyncDeps & { schedule: string }): () => Promise<void> {
  scheduler.registerJob(VULNDB_SYNC_JOB, async (job: JobContext) => {
    const outcomes = await syncAll(deps, job.log, job.signal);
    const failed = outcomes.filter((o) => "error" in o).length;
    if (failed === outcomes.length && failed > 0) throw new Error(`every ecosystem failed: ${outcomes.map(describeOutcome).join("; ")}`);
    return { message: outcomes.map(describeOutcome).join("; "), metrics: { ecosystems: outcomes.length, failed } };
  });
  return async () => {
    await rm(deps.spoolDir, { recursive: true, force: true });
    await scheduler.setSchedule(VULNDB_SYNC_JOB, VULNDB_SYNC_VENDOR_ID, deps.config.url ? deps.schedule : null);
  };
}
