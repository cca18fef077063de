import { randomUUID } from "node:crypto";
import type { Queryable } from "../../db/sql";
import { digestOf } from "../../distribution/digest";
import type { RemoteRegistry } from "../../replication/remote-registry";
import type { EmbeddedScanner } from "../embedded-scanner";
import type { VulnerabilityReport } from "../report/harbor";
import { manifestTarget } from "../scan-target";
import type { AdapterScanRequest } from "./protocol";

export interface AdapterScanOptions {
  /** Scans this node runs at once for adapter callers (BERTH_SCANNER_ADAPTER_WORKERS); beyond it requests are refused. */
  running: number;
  /** How long a report is kept, and how long a scan may run before it counts as failed (a node died mid-scan). */
  keepMs: number;
  timeoutMs: number;
  onError(error: unknown, what: string): void;
}

export type AdapterScanState =
  | { status: "Running" }
  | { status: "Success"; report: VulnerabilityReport }
  | { status: "Error"; message: string };

/** The adapter's own load limit is reached: the caller tries later. */
export class AdapterBusyError extends Error {}

/**
 * Scans asked through the adapter API: the artifact is pulled from the registry the caller names, with the
 * authorization it sends, and inventoried with the embedded scanner's layer walk and cache. Scans run on the node
 * that accepted them; their state is in the database, so any node answers report requests.
 */
export class AdapterScans {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      db: Queryable;
      scanner: EmbeddedScanner;
      /** A client for the registry at `url` sending `authorization` (guarded, or this registry's own loopback). */
      registry(url: string, authorization: string): Promise<RemoteRegistry>;
    },
    private readonly options: AdapterScanOptions,
  ) {}

  /** Starts a scan and answers its id at once (the spec's POST must not block). */
  async submit(request: AdapterScanRequest): Promise<string> {
    if (this.inFlight.size >= this.options.running) {
      throw new AdapterBusyError(`the scanner runs ${this.options.running} adapter scans already (BERTH_SCANNER_ADAPTER_WORKERS); try again later`);
    }
    const id = randomUUID();
    await this.deps.db.query("DELETE FROM adapter_scans WHERE created_at < now() - make_interval(secs => $1)", [this.options.keepMs / 1000]);
    await this.deps.db.query("INSERT INTO adapter_scans (id, repository, digest, status) VALUES ($1, $2, $3, 'Running')", [
      id,
      request.artifact.repository,
      request.artifact.digest,
    ]);
    const run = this.run(id, request).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
    return id;
  }

  /** The scan's state, or null for an id this registry never issued (or forgot). */
  async state(id: string): Promise<AdapterScanState | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const [row] = await this.deps.db.query<{ status: "Running" | "Success" | "Error"; message: string; report: VulnerabilityReport | null; late: boolean }>(
      "SELECT status, message, report, created_at < now() - make_interval(secs => $2) AS late FROM adapter_scans WHERE id = $1",
      [id, this.options.timeoutMs / 1000],
    );
    if (!row) return null;
    if (row.status === "Success") return { status: "Success", report: row.report! };
    if (row.status === "Error") return { status: "Error", message: row.message };
    return row.late ? { status: "Error", message: "the scan did not finish in time" } : { status: "Running" };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(id: string, request: AdapterScanRequest): Promise<void> {
    const { repository, digest, mime_type } = request.artifact;
    try {
      const remote = await this.deps.registry(request.registry.url, request.registry.authorization);
      const manifest = await remote.manifest(repository, digest);
      if (!manifest) throw new Error(`${repository}@${digest} is not in the registry`);
      // The report names this digest: the content must be what it names.
      if (digestOf(manifest.content, digest.startsWith("sha512:") ? "sha512" : "sha256") !== digest) throw new Error(`the manifest of ${repository}@${digest} does not match its digest`);
      const target = manifestTarget(digest, manifest.mediaType || mime_type, manifest.content.length, manifest.content);
      if (target.kind !== "image") throw new Error(target.kind === "index" ? "an image index is scanned image by image" : target.reason);
      const inventory = await this.deps.scanner.inventory(target.layers, (layer) => remote.blob(repository, layer));
      const matched = await this.deps.scanner.match(inventory, { repository, digest, mime_type: target.mediaType });
      await this.deps.db.query("UPDATE adapter_scans SET status = 'Success', report = $2::jsonb, updated_at = now() WHERE id = $1", [id, JSON.stringify(this.deps.scanner.report(matched))]);
    } catch (error) {
      this.options.onError(error, `adapter scan of ${repository}@${digest}`);
      const message = error instanceof Error ? error.message : String(error);
      await this.deps.db
        .query("UPDATE adapter_scans SET status = 'Error', message = $2, updated_at = now() WHERE id = $1", [id, message.slice(0, 1000)])
        .catch((e: unknown) => this.options.onError(e, "recording an adapter scan failure"));
    }
  }
}
