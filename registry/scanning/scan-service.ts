import { randomUUID } from "node:crypto";
import type { DistributionMetadata } from "../distribution/metadata";
import type { EventPublisher, EventType } from "../events/events";
import { isPublic, type ProjectRef, type ProjectStore } from "../projects/projects";
import type { CveAllowlists } from "./allowlists";
import type { EmbeddedScanner } from "./embedded-scanner";
import { VULNERABILITY_REPORT_MIME_TYPE, indexSummary, type ReportArtifact, reportSummary, type ReportCounts, type ReportSummary, type ScannerInfo, type VulnerabilityReport } from "./report/harbor";
import { preventionThreshold, pullVerdict, type PullVerdict } from "./report/pull-policy";
import { severityRank } from "./osv/match";
import { JudgementsGoneError, type ScanRow, type ScanStore, type ScanType, type StoredInventory } from "./scan-store";
import { cycloneDxSbom, CYCLONEDX_MEDIA_TYPE } from "./sbom/cyclonedx";
import { IMAGE_TYPES, scanTarget, type ScanTarget } from "./scan-target";

/** The embedded scanner's registration id: fixed, so every node and every restart names the same scanner. */
export const EMBEDDED_SCANNER_UUID = "berth-embedded";
export const EMBEDDED_SCANNER_INFO = { name: "Berth", vendor: "Berth", version: "1.0" } as const;
export { SCANNER } from "./scanner-principal";

export interface ScanServiceOptions {
  /** Scans this node runs at once (BERTH_SCAN_WORKERS; 0: this node only queues, others scan). */
  workers: number;
  /** Scans that may wait in the queue across all nodes (BERTH_SCAN_QUEUE_MAX); beyond it new requests are refused. */
  queueMax: number;
  /** How often an idle worker looks for work queued on other nodes. */
  pollMs: number;
  /** How often finished reports are checked against the vulnerability database's generation. */
  rematchMs: number;
  /** How long each step of a scan waits for the server to answer the requests in flight (pushes go first). */
  yieldMs: number;
  onError(error: unknown, what: string): void;
  /** A scan that failed (its status says why; an unreadable layer is the image's problem, not the server's). */
  onScanFailed?(what: string, reason: string): void;
}

/** The scanner a project's vulnerability scans use: the embedded one, or a registration's adapter. */
export interface ScannerChoice {
  uuid: string;
  info: ScannerInfo;
}

/** External scanners (registered adapters); without them every scan is the embedded scanner's. */
export interface ExternalScanners {
  /** The scanner the project named `projectName` uses for vulnerability scans. */
  forProject(projectName: string): Promise<ScannerChoice>;
  /** Scans an image of this registry with the registration `uuid`'s adapter (submits, polls, returns the report). */
  scan(uuid: string, repository: string, image: { digest: string; mediaType: string }): Promise<{ report: VulnerabilityReport; counts: ReportCounts }>;
}

export const DEFAULT_SCAN_OPTIONS = { workers: 1, queueMax: 10_000, pollMs: 2_000, rematchMs: 60_000, yieldMs: 1_000 } as const;

/** Harbor's sbom_overview of an artifact. */
export interface SbomOverview {
  report_id: string;
  scan_status: string;
  sbom_digest: string;
  start_time: string;
  end_time: string;
  duration: number;
  scanner: { name: string; vendor: string; version: string };
}

/** Why a scan was queued: a request, a push to an auto_scan project, or a scan of everything (by hand or scheduled). */
export type ScanTrigger = "MANUAL" | "EVENT" | "SCAN_ALL";

/** A scan request the scanner cannot serve (Harbor answers these 400). */
export class NotScannableError extends Error {}
/** The queue is full (answered 429: try again later). */
export class ScanQueueFullError extends Error {}

const RENEW_MS = 60_000;
/** Reports counted again per statement. */
const RECOUNT_BATCH = 500;
/** Package versions judged again per load of their records. */
const REJUDGE_BATCH = 1_000;
/** Reports stored whole converted per load of records. */
const LEGACY_BATCH = 50;
const QUIET_POLL_MS = 5;

/**
 * Scans: requests queue them (in the database, shared by all nodes), background workers run them with the embedded
 * scanner, and their results give artifact overviews, reports, pull decisions and SCANNING_* events. Pushes never
 * wait for a scan: a request only inserts a row.
 */
export class ScanService {
  private readonly node = randomUUID();
  private readonly running = new Set<string>();
  private workers: Promise<void>[] = [];
  private stopped = true;
  private readonly idle = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  private rematching: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      scans: ScanStore;
      scanner: EmbeddedScanner;
      metadata: DistributionMetadata;
      projects: ProjectStore;
      allowlists: CveAllowlists;
      events: EventPublisher;
      external?: ExternalScanners;
      /** Stores an SBOM as a referrer of its image (replacing the earlier one); the new referrer's digest. */
      publishSbom?: (repository: string, subject: { digest: string; mediaType: string; size: number }, document: string, replaces: string | null) => Promise<string>;
      /** Whether this node is answering requests now: scans share its CPU and let them finish first. */
      busy?: () => boolean;
    },
    private readonly options: ScanServiceOptions,
  ) {}

  get scanner() {
    return this.deps.scanner.info;
  }

  /**
   * The scanner that scans `repository`'s images for vulnerabilities (its project's choice, else the default).
   * SBOMs are always the embedded scanner's.
   */
  async scannerFor(repository: string, scanType: ScanType = "vulnerability"): Promise<ScannerChoice> {
    if (scanType === "sbom" || !this.deps.external) return { uuid: EMBEDDED_SCANNER_UUID, info: this.scanner };
    return this.deps.external.forProject(repository.split("/")[0]);
  }

  /**
   * Queues scans of the artifact `digest` in `repository`: an image itself, an index each of its images (Harbor
   * scans the children and sums them up). Throws NotScannableError for other artifacts and ScanQueueFullError when
   * the queue is full; answers the ids of the reports queued (or already queued or running).
   */
  async request(repository: string, digest: string, trigger: ScanTrigger, options: { imagesOnly?: boolean; scanType?: ScanType } = {}): Promise<string[]> {
    const scanType = options.scanType ?? "vulnerability";
    if (scanType === "sbom" && !this.deps.publishSbom) throw new NotScannableError("this registry does not generate SBOMs");
    const target = await scanTarget(this.deps.metadata, repository, digest);
    if (!target) throw new NotScannableError(`${repository}@${digest} is not in the registry`);
    if (options.imagesOnly && target.kind === "index") return [];
    const images = await this.imagesOf(repository, target);
    if (images.length === 0) throw new NotScannableError(target.kind === "unsupported" ? `${repository}@${digest}: ${target.reason}` : `${repository}@${digest} holds no images`);
    if ((await this.deps.scans.pendingCount()) + images.length > this.options.queueMax) {
      throw new ScanQueueFullError(`the scan queue is full (${this.options.queueMax} scans wait; BERTH_SCAN_QUEUE_MAX); try again later`);
    }
    const { uuid } = await this.scannerFor(repository, scanType);
    const ids: string[] = [];
    // Pushes leave artifacts already scanned alone (a known image under a new tag): re-matching keeps reports current.
    const onlyNew = trigger === "EVENT";
    for (const image of images) ids.push((await this.deps.scans.enqueue(image, repository, uuid, scanType, trigger, onlyNew)).id);
    this.wakeAll();
    return ids;
  }

  /**
   * auto_scan's way in: queues scans of what was pushed, many at once and cheaply (a statement per scanner), images
   * only and only those never scanned. Over the queue bound nothing is queued: false then.
   */
  async requestPushed(items: Array<{ repository: string; digest: string }>): Promise<boolean> {
    if ((await this.deps.scans.pendingCount()) + items.length > this.options.queueMax) return false;
    const byScanner = new Map<string, Array<{ repository: string; digest: string }>>();
    for (const item of items) {
      const { uuid } = await this.scannerFor(item.repository, "vulnerability");
      byScanner.set(uuid, [...(byScanner.get(uuid) ?? []), item]);
    }
    let queued = 0;
    for (const [uuid, pushed] of byScanner) queued += await this.deps.scans.enqueuePushed(pushed, uuid, IMAGE_TYPES);
    if (queued > 0) this.wakeAll();
    return true;
  }

  /** Stops queued and running scans of the artifact (and an index's images); how many were stopped. */
  async stop(repository: string, digest: string, scanType: ScanType = "vulnerability"): Promise<number> {
    const target = await scanTarget(this.deps.metadata, repository, digest);
    const images = target ? await this.imagesOf(repository, target) : [];
    const { uuid } = await this.scannerFor(repository, scanType);
    let stopped = 0;
    for (const image of [digest, ...images.filter((d) => d !== digest)]) {
      const rows = await this.deps.scans.stop(image, uuid, scanType);
      for (const row of rows) await this.publish("SCANNING_STOPPED", row);
      stopped += rows.length;
    }
    return stopped;
  }

  /** Harbor's scan_overview of each of `digests` in `repository` (absent: never scanned). */
  async overviews(repository: string, digests: string[]): Promise<Map<string, Record<string, ReportSummary>>> {
    const overviews = new Map<string, Record<string, ReportSummary>>();
    const targets = new Map<string, ScanTarget>();
    for (const digest of digests) {
      const target = await scanTarget(this.deps.metadata, repository, digest);
      if (target) targets.set(digest, target);
    }
    const children = [...targets.values()].flatMap((target) => (target.kind === "index" ? target.children : []));
    const scanner = await this.scannerFor(repository);
    const rows = new Map((await this.deps.scans.rows([...digests, ...children], scanner.uuid, "vulnerability")).map((row) => [row.digest, row]));
    for (const [digest, target] of targets) {
      let summary: ReportSummary | null = null;
      if (target.kind === "index") {
        const scanned = target.children.flatMap((child) => (rows.has(child) ? [this.summaryOf(rows.get(child)!, scanner.info)] : []));
        summary = indexSummary(scanned[0]?.report_id ?? "", scanner.info, scanned);
      } else if (rows.has(digest)) {
        summary = this.summaryOf(rows.get(digest)!, scanner.info);
      }
      if (summary) overviews.set(digest, { [VULNERABILITY_REPORT_MIME_TYPE]: summary });
    }
    return overviews;
  }

  /** Harbor's sbom_overview of each of `digests` that had an SBOM generated (or asked for). */
  async sbomOverviews(digests: string[]): Promise<Map<string, SbomOverview>> {
    const rows = await this.deps.scans.rows(digests, EMBEDDED_SCANNER_UUID, "sbom");
    const overviews = new Map<string, SbomOverview>();
    for (const row of rows) {
      const summary = this.summaryOf(row);
      overviews.set(row.digest, {
        report_id: row.id,
        scan_status: row.status,
        sbom_digest: row.summary?.sbom_digest ?? "",
        start_time: summary.start_time,
        end_time: summary.end_time,
        duration: summary.duration,
        scanner: this.scanner,
      });
    }
    return overviews;
  }

  /**
   * The report of an image in `repository` by its project's scanner (an index has none of its own), or null when
   * it was never scanned successfully.
   */
  async report(repository: string, digest: string): Promise<VulnerabilityReport | null> {
    const result = await this.deps.scans.result(digest, (await this.scannerFor(repository)).uuid, "vulnerability");
    return result?.status === "Success" ? (result.report as VulnerabilityReport) : null;
  }

  /**
   * Whether a pull of `digest` from `repository` may go ahead under the project's `prevent_vul` (Harbor's
   * vulnerable middleware): allowed when prevention is off, for an index (its images are checked when pulled), and
   * for artifacts the scanner cannot scan; otherwise the scan and the effective allowlist decide.
   */
  async pullDecision(project: ProjectRef, repository: string, digest: string): Promise<PullVerdict> {
    if (project.metadata.prevent_vul !== "true") return { allowed: true, bypassed: [] };
    const target = await scanTarget(this.deps.metadata, repository, digest);
    if (!target || target.kind !== "image") return { allowed: true, bypassed: [] };
    // Without a severity Harbor's threshold is Unknown, which refuses any vulnerability: the strict reading.
    const severity = project.metadata.severity ?? "";
    const scanner = (await this.scannerFor(repository)).uuid;
    // The counts settle most pulls without loading the report: allowlists can only lower what the counts say.
    const [row] = await this.deps.scans.rows([digest], scanner, "vulnerability");
    const counts = row?.status === "Success" && row.summary?.severity !== undefined ? row.summary : null;
    if (counts && (counts.total === 0 || severityRank(counts.severity) < severityRank(preventionThreshold(severity)))) return { allowed: true, bypassed: [] };
    const result = row ? await this.deps.scans.result(digest, scanner, "vulnerability") : null;
    const scan = result && { status: result.status, report: result.status === "Success" ? (result.report as VulnerabilityReport) : null };
    const allowlists = await this.deps.allowlists.effective(project.id, project.metadata);
    return pullVerdict(`${repository}@${digest}`, scan, { severity, allowlists }, new Date());
  }

  /** Starts this node's workers and the re-matching of reports when the database changes. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.work());
    if (this.options.workers > 0) {
      this.timers.push(setInterval(() => void this.deps.scans.renew(this.node, [...this.running]).catch((e) => this.options.onError(e, "renewing scan claims")), RENEW_MS));
      this.timers.push(setInterval(() => void this.rematch().catch((e) => this.options.onError(e, "re-matching reports")), this.options.rematchMs));
    }
    for (const timer of this.timers) timer.unref();
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.wakeAll();
    await Promise.all(this.workers);
    await this.rematching;
    this.workers = [];
  }

  /**
   * Brings finished reports up to the vulnerability database's generation without reading a layer: the judgements of
   * package versions whose records changed are made again (each once, whatever number of images hold it), and the
   * reports holding them counted again. Reports stored whole by an earlier version are matched from their stored
   * inventories into that form first.
   */
  rematch(): Promise<void> {
    this.rematching ??= this.rematchAll().finally(() => (this.rematching = null));
    return this.rematching;
  }

  private async rematchAll(): Promise<void> {
    const { scans, scanner } = this.deps;
    while (!this.stopped && (await this.convertLegacy()));
    for (;;) {
      if (this.stopped) return;
      const generation = await scanner.generation();
      await this.rejudge(generation);
      // Reports none of whose packages changed only move to the new generation; the others are counted again.
      const oldest = await scans.oldestStale(EMBEDDED_SCANNER_UUID, generation);
      const changed = oldest === null ? null : await scanner.changedSince(oldest);
      if (oldest !== null && changed !== null) await scans.advanceUnaffected(EMBEDDED_SCANNER_UUID, oldest, generation, changed);
      const stale = await scans.stale(EMBEDDED_SCANNER_UUID, generation, RECOUNT_BATCH);
      if (stale.length === 0) {
        const settled = await scans.oldestGeneration(EMBEDDED_SCANNER_UUID);
        if (settled !== null) await scanner.pruneChanges(Math.min(settled, (await scans.oldestJudgement()) ?? settled));
        await scans.pruneJudgements();
        return;
      }
      await this.whenQuiet();
      await scans.recount(stale, generation);
    }
  }

  /** Judges again the stored package versions whose records changed since they were judged; moves the rest along. */
  private async rejudge(generation: number): Promise<void> {
    const { scans, scanner } = this.deps;
    const oldest = await scans.oldestJudgement();
    if (oldest === null || oldest >= generation) return;
    const changed = await scanner.changedSince(oldest);
    for (;;) {
      if (this.stopped) return;
      const batch = await scans.staleJudgements(generation, changed, REJUDGE_BATCH);
      if (batch.length === 0) break;
      await this.whenQuiet();
      const judged = await scanner.rejudge(batch.map((row) => row.key));
      await scans.saveJudgements(judged.generation, judged.judgements);
    }
    await scans.advanceJudgements(generation);
  }

  /** Matches a batch of reports stored whole (with their inventories) into packages and judgements; false: none left. */
  private async convertLegacy(): Promise<boolean> {
    const { scans, scanner } = this.deps;
    const legacy = await scans.legacy(EMBEDDED_SCANNER_UUID, LEGACY_BATCH);
    if (legacy.length === 0) return false;
    for (const row of legacy) {
      const artifact = row.report?.artifact ?? { repository: row.repository, digest: row.digest, mime_type: VULNERABILITY_REPORT_MIME_TYPE };
      await this.storeJudged(row.id, row.inventory, artifact, false);
    }
    return true;
  }

  /**
   * Judges an image's packages (those of versions judged before are not judged again) and stores them with the
   * report `id`: a scan's (`running`) or a report's stored whole before. Judgements dropped meanwhile are made again.
   */
  private async storeJudged(id: string, inventory: StoredInventory, artifact: ReportArtifact, running: boolean): Promise<boolean> {
    const { scans, scanner } = this.deps;
    const judged = await scanner.judgeImage(inventory, artifact);
    await this.whenQuiet();
    try {
      return await scans.succeedMatched(id, judged, running);
    } catch (error) {
      if (!(error instanceof JudgementsGoneError)) throw error;
      return scans.succeedMatched(id, await scanner.judgeImage(inventory, artifact, true), running);
    }
  }

  /** The images a scan of `target` covers: itself, or an index's children that are images here. */
  private async imagesOf(repository: string, target: ScanTarget): Promise<string[]> {
    if (target.kind === "image") return [target.digest];
    if (target.kind === "unsupported") return [];
    const images: string[] = [];
    for (const child of target.children) {
      if ((await scanTarget(this.deps.metadata, repository, child))?.kind === "image") images.push(child);
    }
    return images;
  }

  private wakeAll(): void {
    for (const wake of [...this.idle]) wake();
  }

  private summaryOf(row: ScanRow, scanner: ScannerInfo = this.scanner): ReportSummary {
    const started = row.start_time ?? row.queued_at;
    const ended = row.end_time ?? started;
    const counts = row.summary?.severity !== undefined ? row.summary : { severity: "Unknown" as const, total: 0, fixable: 0, summary: {} };
    return reportSummary(row.id, scanner, { status: row.status, startedAt: started, endedAt: ended }, counts);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      let row: ScanRow | null = null;
      try {
        row = await this.deps.scans.claim(this.node);
      } catch (error) {
        this.options.onError(error, "claiming a scan");
      }
      if (!row) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.idle.delete(done);
            resolve();
          };
          const timer = setTimeout(done, this.options.pollMs);
          this.idle.add(done);
        });
        continue;
      }
      this.running.add(row.id);
      try {
        await this.run(row);
      } finally {
        this.running.delete(row.id);
      }
    }
  }

  private async run(row: ScanRow): Promise<void> {
    const { scans, scanner } = this.deps;
    try {
      const target = await scanTarget(this.deps.metadata, row.repository, row.digest);
      if (!target || target.kind !== "image") throw new Error(`${row.repository}@${row.digest} is no longer an image in the registry`);
      await this.whenQuiet();
      if (row.scanner !== EMBEDDED_SCANNER_UUID) {
        if (!this.deps.external) throw new Error(`scanner ${row.scanner} is not available`);
        const scanned = await this.deps.external.scan(row.scanner, row.repository, target);
        if (await scans.succeed(row.id, scanned.report, scanned.counts)) await this.publish("SCANNING_COMPLETED", row);
        return;
      }
      const inventory = await scanner.inventory(target.layers);
      await this.whenQuiet();
      let succeeded: boolean;
      if (row.scan_type === "sbom") {
        const document = cycloneDxSbom({ repository: row.repository, digest: row.digest }, inventory.inventory, { tool: { name: this.scanner.name, version: this.scanner.version } });
        const sbomDigest = await this.deps.publishSbom!(row.repository, target, document, row.summary?.sbom_digest ?? null);
        succeeded = await scans.succeed(row.id, { media_type: CYCLONEDX_MEDIA_TYPE, sbom_digest: sbomDigest }, { sbom_digest: sbomDigest });
      } else {
        const artifact = { repository: row.repository, digest: row.digest, mime_type: target.mediaType };
        succeeded = await this.storeJudged(row.id, inventory, artifact, true);
      }
      if (succeeded) await this.publish("SCANNING_COMPLETED", row);
    } catch (error) {
      this.options.onScanFailed?.(`${row.repository}@${row.digest}`, error instanceof Error ? error.message : String(error));
      if (await scans.fail(row.id, error instanceof Error ? error.message : String(error))) await this.publish("SCANNING_FAILED", row);
    }
  }

  /**
   * Waits while the node answers requests, at most `yieldMs`: a scan is CPU work on the thread that answers pushes,
   * so it runs between them; under a steady load it still moves on, one step per `yieldMs`.
   */
  private async whenQuiet(): Promise<void> {
    const busy = this.deps.busy;
    if (!busy) return;
    const until = Date.now() + this.options.yieldMs;
    while (busy() && !this.stopped && Date.now() < until) await new Promise<void>((resolve) => setTimeout(resolve, QUIET_POLL_MS));
  }

  private async publish(type: EventType, row: ScanRow): Promise<void> {
    const project = await this.deps.projects.findRefByName(row.repository.split("/")[0]);
    if (!project) return;
    const [scan] = await this.deps.scans.rows([row.digest], row.scanner, row.scan_type);
    const scanner = row.scanner === EMBEDDED_SCANNER_UUID ? this.scanner : (await this.scannerFor(row.repository)).info;
    await this.deps.events.publish({
      type,
      projectId: project.id,
      operator: "scanner",
      occurredAt: new Date(),
      repository: { name: row.repository, public: isPublic(project) },
      resources: [{ digest: row.digest, tag: null }],
      details: {
        scan: { scan_type: row.scan_type },
        ...(scan && row.scan_type === "vulnerability" ? { scan_overview: { [VULNERABILITY_REPORT_MIME_TYPE]: this.summaryOf(scan, scanner) } } : {}),
        ...(scan && row.scan_type === "sbom" ? { sbom_overview: (await this.sbomOverviews([row.digest])).get(row.digest) } : {}),
      },
    });
  }
}
