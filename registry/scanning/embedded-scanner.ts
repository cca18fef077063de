import type { BlobStore } from "../storage/blob-store";
import { osvEcosystemOf as osEcosystemOfDistribution } from "./analyzers/os-release";
import { inventoryOfLayer, LAYER_INVENTORY_VERSION, squashLayers, type LayerInventory, type LayerWalkOptions } from "./layers";
import { matchInventory, osvEcosystemOf, summarize, type MatchMemo, type VulnerabilitySource } from "./osv/match";
import { vulnerabilityReport, type ReportArtifact, type ReportCounts, type ScannerInfo, type VulnerabilityReport } from "./report/harbor";
import type { ScanStore, StoredInventory } from "./scan-store";
import type { LayerRef } from "./scan-target";

/** What the embedded scanner needs of the vulnerability database. */
export interface VulnerabilityDatabase {
  /** A number that grows whenever an import changes the records: reports of an older one are re-matched. */
  generation(): Promise<number>;
  /** Every record for these packages, loaded at once (matching an image asks for hundreds). */
  prefetch(keys: Array<{ ecosystem: string; name: string }>): Promise<VulnerabilitySource>;
}

export interface PreparedDatabase {
  generation: number;
  source: VulnerabilitySource;
  /** What matching found of each package version so far, for the other inventories matched with this load. */
  memo: MatchMemo;
}

export interface MatchedReport {
  report: VulnerabilityReport;
  counts: ReportCounts;
  generation: number;
  /** Packages whose versions their ecosystem's ordering could not read (not judged). */
  unmatched: number;
}

/**
 * Berth's own scanner: the inventory of an image from its layers (each layer read from the blob store once ever,
 * its inventory cached by digest), matched against the imported OSV records. Its reads go to the blob store
 * directly, so a project's pull policy never stands in its way.
 */
export class EmbeddedScanner {
  // Two scans that share a layer not yet cached read it once.
  private readonly reading = new Map<string, Promise<LayerInventory>>();

  constructor(
    readonly info: ScannerInfo,
    private readonly store: BlobStore,
    private readonly scans: ScanStore,
    private readonly vulndb: VulnerabilityDatabase,
    private readonly walk: LayerWalkOptions = {},
  ) {}

  /** The squashed inventory of an image whose layers are `layers` (bottom first). */
  async inventory(layers: LayerRef[]): Promise<StoredInventory> {
    const found: LayerInventory[] = [];
    for (const layer of layers) found.push(await this.layerInventory(layer.digest));
    const inventory = squashLayers(found);
    return { osEcosystem: osEcosystemOfDistribution(inventory.distribution), inventory };
  }

  generation(): Promise<number> {
    return this.vulndb.generation();
  }

  /**
   * The records for every package of `inventories`, loaded at once, and the database generation they are of (read
   * first: an import landing meanwhile leaves the reports stale, never wrongly current).
   */
  async prepare(inventories: StoredInventory[]): Promise<PreparedDatabase> {
    const generation = await this.vulndb.generation();
    const keys = new Map<string, { ecosystem: string; name: string }>();
    for (const stored of inventories) {
      for (const pkg of stored.inventory.packages) {
        const ecosystem = osvEcosystemOf(pkg, stored.osEcosystem);
        if (ecosystem !== null) keys.set(`${ecosystem}\u0000${pkg.sourceName}`, { ecosystem, name: pkg.sourceName });
      }
    }
    return { generation, source: await this.vulndb.prefetch([...keys.values()]), memo: new Map() };
  }

  /** Matches an inventory against the database (as it is now, or as `prepared` loaded it). */
  async match(stored: StoredInventory, artifact: ReportArtifact, prepared?: PreparedDatabase): Promise<MatchedReport> {
    const { source, generation, memo } = prepared ?? (await this.prepare([stored]));
    const { findings, unmatched } = await matchInventory(stored.inventory, stored.osEcosystem, source, memo);
    const report = vulnerabilityReport(artifact, this.info, findings, new Date());
    return { report, counts: summarize(findings), generation, unmatched: unmatched.length };
  }

  private layerInventory(digest: string): Promise<LayerInventory> {
    let pending = this.reading.get(digest);
    if (!pending) {
      pending = this.readLayer(digest).finally(() => this.reading.delete(digest));
      this.reading.set(digest, pending);
    }
    return pending;
  }

  private async readLayer(digest: string): Promise<LayerInventory> {
    const cached = await this.scans.layerInventory<LayerInventory>(digest, LAYER_INVENTORY_VERSION);
    if (cached) return cached;
    const blob = await this.store.read(digest);
    if (!blob) throw new Error(`layer ${digest} is not in the blob store`);
    const inventory = await inventoryOfLayer(blob, this.walk);
    await this.scans.saveLayerInventory(digest, LAYER_INVENTORY_VERSION, inventory);
    return inventory;
  }
}
