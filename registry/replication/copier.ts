import type { FetchedManifest, RemoteRegistry } from "./remote-registry";
import { throttled } from "./throttle";

export interface CopyEndpoint {
  registry: RemoteRegistry;
  repository: string;
}

/** What a copy did, for reports: bytes moved and blobs the destination already had. */
export interface CopyStats {
  manifests: number;
  blobsCopied: number;
  blobsSkipped: number;
  /** Blobs linked by cross-repository mount instead of being sent (source and destination are one registry). */
  blobsMounted: number;
  bytes: number;
}

export interface CopyOptions {
  /** KB/s for each blob stream; 0 = unlimited. */
  speedKBps?: number;
}

interface Descriptor {
  digest: string;
  size: number;
  mediaType?: string;
}

/** The blobs and child manifests a manifest refers to. */
export function referencesOf(manifest: FetchedManifest): { blobs: Descriptor[]; children: Descriptor[] } {
  const parsed = JSON.parse(manifest.content.toString("utf8")) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  return { blobs: [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])], children: parsed.manifests ?? [] };
}

/**
 * Copies one artifact (by tag or digest) between registries: its blobs (streamed, skipped when the destination has
 * them), for an index every child manifest first, then referrers (signatures, SBOMs) the source lists, and last the
 * manifest itself under `tag` (or its digest), so the destination never shows a tag whose content is incomplete.
 */
export class ArtifactCopier {
  readonly stats: CopyStats = { manifests: 0, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, bytes: 0 };

  constructor(
    private readonly source: CopyEndpoint,
    private readonly destination: CopyEndpoint,
    private readonly options: CopyOptions = {},
  ) {}

  /** Whether both ends are one registry, where a blob can be mounted instead of sent. */
  private get sameRegistry(): boolean {
    return this.source.registry.base === this.destination.registry.base && this.source.repository !== this.destination.repository;
  }

  /** Copies `reference` and returns its digest; null when the source does not have it. */
  async copy(reference: string, tag: string | null): Promise<string | null> {
    const manifest = await this.source.registry.manifest(this.source.repository, reference);
    if (!manifest) return null;
    await this.copyManifest(manifest, tag);
    return manifest.digest;
  }

  /** Copies a manifest the caller already fetched from the source, under `tag` (or its digest). */
  async copyManifest(manifest: FetchedManifest, tag: string | null): Promise<void> {
    const { blobs, children } = referencesOf(manifest);
    for (const child of children) {
      const fetched = await this.source.registry.manifest(this.source.repository, child.digest);
      if (!fetched) throw new Error(`${this.source.registry.base}: ${this.source.repository}@${child.digest}, a child of ${manifest.digest}, is missing`);
      await this.copyManifest(fetched, null);
    }
    for (const blob of blobs) await this.copyBlob(blob);
    await this.destination.registry.putManifest(this.destination.repository, tag ?? manifest.digest, manifest);
    this.stats.manifests += 1;
    for (const referrer of await this.source.registry.referrers(this.source.repository, manifest.digest)) {
      const fetched = await this.source.registry.manifest(this.source.repository, referrer.digest);
      if (fetched) await this.copyManifest(fetched, null);
    }
  }

  private async copyBlob(blob: Descriptor): Promise<void> {
    const { registry, repository } = this.destination;
    if (await registry.hasBlob(repository, blob.digest)) {
      this.stats.blobsSkipped += 1;
      return;
    }
    if (this.sameRegistry && (await registry.mountBlob(repository, blob.digest, this.source.repository))) {
      this.stats.blobsMounted += 1;
      return;
    }
    const speed = this.options.speedKBps ?? 0;
    await registry.pushBlob(repository, blob.digest, blob.size, async () => throttled(await this.source.registry.blob(this.source.repository, blob.digest), speed));
    this.stats.blobsCopied += 1;
    this.stats.bytes += blob.size;
  }
}
