import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { HashingStream, parseDigest } from "../distribution/digest";
import type { BlobStore } from "../storage/blob-store";
import { osvEcosystemOf as osEcosystemOfDistribution } from "./analyzers/os-release";
import { inventoryOfLayer, LAYER_INVENTORY_VERSION, squashLayers, type LayerInventory, type LayerWalkOptions } from "./layers";
import { judge, judgedPackages, letRequestsIn, matchInventory, osvEcosystemOf, subjectOfKey, type Finding, type JudgedPackage, type Judgement, type JudgementSubject, type MatchMemo, type VulnerabilitySource } from "./osv/match";
import { vulnerabilityReport, type ReportArtifact, type ScannerInfo, type VulnerabilityReport } from "./report/harbor";
import type { MatchedImage, ScanStore, StoredInventory } from "./scan-store";
import { changeKey } from "./vulndb/store";
import type { LayerRef } from "./scan-target";

/** What the embedded scanner needs of the vulnerability database. */
export interface VulnerabilityDatabase {
  /** A number that grows whenever an import changes the records: reports of an older one are re-matched. */
  generation(): Promise<number>;
  /** Every record for these packages, loaded at once (matching an image asks for hundreds). */
  prefetch(keys: Array<{ ecosystem: string; name: string }>): Promise<VulnerabilitySource>;
  /** The packages (changeKey) whose records changed after `generation`; null: unknown or too many, match all. */
  changedSince(generation: number): Promise<string[] | null>;
  /** Forgets changes up to `generation`, which no report is older than. */
  pruneChanges(generation: number): Promise<void>;
}

/** The packages of an inventory as the vulnerability database keys them: (OSV ecosystem, name to look up). */
export function packageKeys(stored: StoredInventory): Array<{ ecosystem: string; name: string }> {
  const keys = new Map<string, { ecosystem: string; name: string }>();
  for (const pkg of stored.inventory.packages) {
    const ecosystem = osvEcosystemOf(pkg, stored.osEcosystem);
    if (ecosystem !== null) keys.set(changeKey(ecosystem, pkg.sourceName), { ecosystem, name: pkg.sourceName });
  }
  return [...keys.values()];
}

/**
 * Where layers come from when they are not in this registry's blob store (the adapter API reading another
 * registry): a stream of the blob, whose digest the scanner checks before it caches what it found.
 */
export type LayerSource = (digest: string) => Promise<Readable>;

export interface PreparedDatabase {
  generation: number;
  source: VulnerabilitySource;
  /** What matching found of each package version so far, for the other inventories matched with this load. */
  memo: MatchMemo;
}

export interface MatchedReport extends MatchedImage {
  findings: Finding[];
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

  /**
   * The squashed inventory of an image whose layers are `layers` (bottom first), read from the blob store or from
   * `source`. Either way a layer is read only when no inventory of its digest is cached.
   */
  async inventory(layers: LayerRef[], source?: LayerSource): Promise<StoredInventory> {
    const found: LayerInventory[] = [];
    for (const layer of layers) found.push(await this.layerInventory(layer.digest, source));
    const inventory = squashLayers(found);
    return { osEcosystem: osEcosystemOfDistribution(inventory.distribution), inventory };
  }

  generation(): Promise<number> {
    return this.vulndb.generation();
  }

  changedSince(generation: number): Promise<string[] | null> {
    return this.vulndb.changedSince(generation);
  }

  pruneChanges(generation: number): Promise<void> {
    return this.vulndb.pruneChanges(generation);
  }

  /**
   * The records for every package of `inventories`, loaded at once, and the database generation they are of (read
   * first: an import landing meanwhile leaves the reports stale, never wrongly current).
   */
  async prepare(inventories: StoredInventory[]): Promise<PreparedDatabase> {
    const generation = await this.vulndb.generation();
    const keys = new Map<string, { ecosystem: string; name: string }>();
    for (const stored of inventories) for (const key of packageKeys(stored)) keys.set(changeKey(key.ecosystem, key.name), key);
    return { generation, source: await this.vulndb.prefetch([...keys.values()]), memo: new Map() };
  }

  /**
   * Matches an inventory against the database (as it is now, or as `prepared` loaded it) with every finding built:
   * what a client of Berth's scanner adapter reads.
   */
  async match(stored: StoredInventory, artifact: ReportArtifact, prepared?: PreparedDatabase): Promise<MatchedReport> {
    const { source, generation, memo } = prepared ?? (await this.prepare([stored]));
    const { findings, unmatched, packages, judgements } = await matchInventory(stored.inventory, stored.osEcosystem, source, memo);
    return { ...this.image(stored, artifact, generation, packages, judgements), findings, unmatched: unmatched.length };
  }

  /**
   * What a scan stores of an image: its packages and the judgements of those of their versions no current judgement
   * is stored for — only their records are loaded and judged, so an image on a base scanned before costs the few
   * packages of its own layers. `all`: judge every package version (when stored ones went away meanwhile).
   */
  async judgeImage(stored: StoredInventory, artifact: ReportArtifact, all = false): Promise<MatchedImage> {
    const found = judgedPackages(stored.inventory, stored.osEcosystem);
    const generation = await this.vulndb.generation();
    const subjects = new Map(found.map(({ judged, subject }) => [judged.judgement, subject]));
    const current = all ? new Set<string>() : await this.scans.currentJudgements([...subjects.keys()], generation);
    const missing = [...subjects].filter(([key]) => !current.has(key));
    const judgements = await this.judgeSubjects(missing);
    return this.image(stored, artifact, generation, found.map(({ judged }) => judged), judgements);
  }

  /** The whole report of a match, as an adapter's client reads it. */
  report(matched: MatchedReport): VulnerabilityReport {
    return vulnerabilityReport(matched.heading.artifact, this.info, matched.findings, new Date(matched.heading.generated_at));
  }

  /**
   * Judges stored package versions (judgement keys) again against the database as it is now, their records loaded at
   * once; the generation read before them (an import landing meanwhile leaves them stale, never wrongly current).
   */
  async rejudge(keys: string[]): Promise<{ generation: number; judgements: Map<string, Judgement> }> {
    const generation = await this.vulndb.generation();
    return { generation, judgements: await this.judgeSubjects(keys.map((key) => [key, subjectOfKey(key)])) };
  }

  /** Judges these subjects, the records of all of them loaded at once. */
  private async judgeSubjects(subjects: Array<[string, JudgementSubject]>): Promise<Map<string, Judgement>> {
    const judgements = new Map<string, Judgement>();
    if (subjects.length === 0) return judgements;
    const source = await this.vulndb.prefetch(subjects.map(([, subject]) => ({ ecosystem: subject.osvEcosystem, name: subject.name })));
    for (const [index, [key, subject]] of subjects.entries()) {
      await letRequestsIn(index);
      judgements.set(key, await judge(subject, source));
    }
    return judgements;
  }

  private image(stored: StoredInventory, artifact: ReportArtifact, generation: number, packages: JudgedPackage[], judgements: Map<string, Judgement>): MatchedImage {
    const keys = packageKeys(stored).map((key) => changeKey(key.ecosystem, key.name));
    return { heading: { generated_at: new Date().toISOString(), artifact, scanner: this.info }, packages, judgements, generation, keys };
  }

  private layerInventory(digest: string, source?: LayerSource): Promise<LayerInventory> {
    let pending = this.reading.get(digest);
    if (!pending) {
      pending = this.readLayer(digest, source).finally(() => this.reading.delete(digest));
      this.reading.set(digest, pending);
    }
    return pending;
  }

  private async readLayer(digest: string, source?: LayerSource): Promise<LayerInventory> {
    const cached = await this.scans.layerInventory<LayerInventory>(digest, LAYER_INVENTORY_VERSION);
    if (cached) return cached;
    let inventory: LayerInventory;
    if (source) {
      inventory = await verifiedInventory(await source(digest), digest, this.walk);
    } else {
      const blob = await this.store.read(digest);
      if (!blob) throw new Error(`layer ${digest} is not in the blob store`);
      inventory = await inventoryOfLayer(blob, this.walk);
    }
    await this.scans.saveLayerInventory(digest, LAYER_INVENTORY_VERSION, inventory);
    return inventory;
  }
}

/**
 * The inventory of a layer from elsewhere, hashed as it streams: the cache is keyed by digest and shared with this
 * registry's own scans, so content that is not what its digest says must never land there.
 */
async function verifiedInventory(blob: Readable, digest: string, walk: LayerWalkOptions): Promise<LayerInventory> {
  const parsed = parseDigest(digest);
  if (!parsed) {
    blob.destroy();
    throw new Error(`${digest.slice(0, 100)} is not a digest the scanner can verify`);
  }
  const hashing = new HashingStream(createHash(parsed.algorithm));
  let ended = false;
  hashing.once("end", () => (ended = true));
  blob.once("error", (error) => hashing.destroy(error));
  blob.pipe(hashing);
  let inventory: LayerInventory;
  try {
    inventory = await inventoryOfLayer(hashing, walk);
    // The walk may stop at the end of the archive: whatever follows is hashed too.
    if (!ended) {
      hashing.resume();
      await finished(hashing);
    }
  } catch (error) {
    // A walk that gave up (a limit, a corrupt archive) leaves the download open otherwise.
    blob.destroy();
    throw error;
  }
  const actual = `${parsed.algorithm}:${hashing.hash.digest("hex")}`;
  if (actual !== digest) throw new Error(`layer ${digest} does not match its digest (the registry sent ${actual})`);
  return inventory;
}
