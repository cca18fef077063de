import { PassThrough, type Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { LRUCache } from "lru-cache";
import type { ProjectRef } from "../projects/projects";
import { digestOf, parseDigest } from "../distribution/digest";
import { OciError } from "../distribution/errors";
import { parseManifest } from "../distribution/manifest";
import type { DistributionMetadata, StoredManifest } from "../distribution/metadata";
import type { UploadService } from "../distribution/upload-service";
import type { RegistryStore } from "../replication/registries";
import { RemoteError, type FetchedManifest, type RemoteRegistry } from "../replication/remote-registry";
import type { BlobStore } from "../storage/blob-store";

export interface ProxyCacheOptions {
  /** How long a cached tag is served without asking the upstream whether it moved. */
  ttlMs: number;
  /** How long caching a manifest waits for the client's own blob pulls (which it stores) before fetching the rest. */
  patienceMs: number;
  onError(error: unknown): void;
  /** Told of each manifest the cache stored, by local repository name (auto_scan scans what arrives this way too). */
  onCached?(repository: string, digest: string): void;
}

export type PullReference = { kind: "digest"; digest: string } | { kind: "tag"; tag: string };

/** A blob to send a client: its size (when known) and its bytes (none for HEAD). */
export interface ProxiedBlob {
  size: number | null;
  stream: Readable | null;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a pulling client is told of an upstream failure: the status, not the upstream's words (which the log keeps). */
const brief = (error: unknown) => (error instanceof RemoteError ? error.brief : "the upstream registry could not be reached");

/**
 * Pull-through caching for proxy projects (a project with a registry endpoint, `registry_id`): `project/a/b` is the
 * upstream's `a/b`. A pull of something not cached streams it from the upstream to the client while storing it;
 * a manifest is stored once every blob it needs is stored (the client's own pulls store them; what the client does
 * not pull is fetched after `patienceMs`), so the cache never holds a manifest it cannot serve whole. Cached tags are
 * re-checked with the upstream (a HEAD, which registries do not count against pull limits) after `ttlMs`, and served
 * as they are when the upstream cannot be reached.
 */
export class ProxyCache {
  private readonly checked: LRUCache<string, true>;
  private readonly caching = new Map<string, Promise<void>>();
  private readonly fetching = new Map<string, Promise<void>>();
  private closing = false;

  constructor(
    private readonly metadata: DistributionMetadata,
    private readonly store: BlobStore,
    private readonly uploads: UploadService,
    private readonly registries: RegistryStore,
    private readonly options: ProxyCacheOptions,
  ) {
    this.checked = new LRUCache({ max: 100_000, ttl: Math.max(1, options.ttlMs) });
  }

  /** The manifest to serve for `reference` of proxy repository `name`; null when neither the upstream nor the cache has it. */
  async manifest(project: ProjectRef, name: string, reference: PullReference): Promise<StoredManifest | null> {
    const repositoryId = await this.repositoryOf(project, name);
    const cached =
      reference.kind === "digest" ? await this.metadata.manifestByDigest(repositoryId, reference.digest) : await this.metadata.manifestByTag(repositoryId, reference.tag);
    const freshKey = reference.kind === "tag" ? `${repositoryId}/${reference.tag}` : null;
    // A digest names the same bytes forever; a tag is trusted for the TTL.
    if (cached && (freshKey === null || this.checked.has(freshKey))) return cached;

    const upstream = await this.upstreamOf(project);
    const upstreamName = name.slice(project.name.length + 1);
    let fetched: FetchedManifest | null;
    try {
      if (cached && reference.kind === "tag") {
        const current = await upstream.manifestDigest(upstreamName, reference.tag);
        if (current === cached.digest) {
          this.checked.set(freshKey!, true);
          return cached;
        }
        fetched = current === null ? null : await upstream.manifest(upstreamName, current);
      } else {
        fetched = await upstream.manifest(upstreamName, reference.kind === "tag" ? reference.tag : reference.digest);
      }
    } catch (error) {
      if (cached) return cached; // the upstream is down or failing: what was pulled before still is
      this.options.onError(new Error(`${name}: the upstream failed: ${message(error)}`));
      throw new OciError("UNAVAILABLE", `${name}: the upstream registry failed and nothing is cached: ${brief(error)}`);
    }
    if (!fetched) return null;

    // The upstream's digest header is not trusted: the cache is keyed by what the bytes hash to.
    const algorithm = reference.kind === "digest" ? parseDigest(reference.digest)!.algorithm : "sha256";
    const digest = digestOf(fetched.content, algorithm);
    if (reference.kind === "digest" && digest !== reference.digest) {
      throw new OciError("UNAVAILABLE", `${name}: the upstream answered ${reference.digest} with content of digest ${digest}`);
    }
    this.cacheInBackground(name, repositoryId, upstream, upstreamName, { ...fetched, digest }, reference.kind === "tag" ? reference.tag : null);
    if (freshKey) this.checked.set(freshKey, true);
    return { digest, media_type: fetched.mediaType, size: fetched.content.length, content: fetched.content, subject_digest: null };
  }

  /**
   * A blob of proxy repository `name` that is not linked there yet: linked from the store when another repository
   * brought it, else streamed from the upstream to the client and stored on the way. Null when the upstream does not
   * have it.
   */
  async blob(project: ProjectRef, name: string, digest: string, head: boolean): Promise<ProxiedBlob | null> {
    const repositoryId = await this.repositoryOf(project, name);
    const key = `${repositoryId}/${digest}`;
    await this.fetching.get(key)?.catch(() => undefined);
    const local = await this.linkStored(repositoryId, digest);
    if (local !== null) return { size: local, stream: head ? null : await this.store.read(digest) };

    const upstream = await this.upstreamOf(project);
    const upstreamName = name.slice(project.name.length + 1);
    try {
      if (head) {
        const size = await upstream.blobSize(upstreamName, digest);
        return size === null ? null : { size, stream: null };
      }
      const { stream, size } = await upstream.openBlob(upstreamName, digest);
      // One read from the upstream feeds both: a client that goes away unpipes itself and the cache still fills.
      const toClient = new PassThrough();
      const toStore = new PassThrough();
      stream.once("error", (error) => {
        toClient.destroy(error);
        toStore.destroy(error);
      });
      stream.pipe(toClient);
      stream.pipe(toStore);
      this.track(key, this.storeBlob(repositoryId, digest, toStore));
      return { size, stream: toClient };
    } catch (error) {
      if (error instanceof RemoteError && error.status === 404) return null;
      this.options.onError(new Error(`${name}: the upstream failed: ${message(error)}`));
      throw new OciError("UNAVAILABLE", `${name}: the upstream registry failed and ${digest} is not cached: ${brief(error)}`, { digest });
    }
  }

  /**
   * Tags of the repository served to a client and still being cached (their manifest is stored once its blobs are):
   * a tag listing right after a first pull names them (`skopeo inspect` lists tags right after the manifest). Only
   * this node's: another node knows them once they are stored.
   */
  tagsBeingCached(repositoryId: number): string[] {
    const prefix = `${repositoryId}/`;
    return [...this.caching.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.split("/")[2]).filter((tag) => tag !== "");
  }

  /** Stops waiting for clients' pulls and waits for what is being stored (the process is stopping). */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
  }

  /** Resolves when everything being cached now has been stored (or failed). */
  async idle(): Promise<void> {
    while (this.caching.size > 0 || this.fetching.size > 0) {
      await Promise.allSettled([...this.caching.values(), ...this.fetching.values()]);
    }
  }

  /** The repository's id: a cached read on every pull, a write only for the first pull of a repository. */
  private async repositoryOf(project: ProjectRef, name: string): Promise<number> {
    return (await this.metadata.repositoryId(name)) ?? this.metadata.ensureRepository(name, project.id);
  }

  private async upstreamOf(project: ProjectRef): Promise<RemoteRegistry> {
    const endpoint = await this.registries.get(project.registry_id);
    if (!endpoint) throw new OciError("NAME_UNKNOWN", `proxy project ${project.name}: its registry endpoint ${project.registry_id} no longer exists`);
    // One attempt: a client waits on this, and a cached copy is the fallback.
    return this.registries.remote(endpoint, 1);
  }

  /** Links a blob the store already holds into the repository; its size, or null when it is not stored. */
  private async linkStored(repositoryId: number, digest: string): Promise<number | null> {
    const linked = await this.metadata.linkedBlobSize(repositoryId, digest);
    if (linked !== null) return linked;
    const stored = await this.store.stat(digest);
    if (stored && (await this.metadata.mountBlob(repositoryId, digest))) return stored.size;
    return null;
  }

  private track(key: string, work: Promise<void>): Promise<void> {
    const tracked = work.finally(() => this.fetching.delete(key));
    this.fetching.set(key, tracked);
    tracked.catch((error) => this.options.onError(error));
    return tracked;
  }

  /** Streams `source` into an upload of the repository and commits it after verifying the digest. */
  private async storeBlob(repositoryId: number, digest: string, source: Readable): Promise<void> {
    const id = await this.uploads.start(repositoryId, "system:proxy-cache");
    try {
      await this.uploads.append(id, repositoryId, source, 0);
      await this.uploads.finish(id, repositoryId, parseDigest(digest)!, null);
    } catch (error) {
      source.resume();
      await this.uploads.cancel(id, repositoryId).catch(() => undefined);
      throw error;
    }
  }

  private cacheInBackground(name: string, repositoryId: number, upstream: RemoteRegistry, upstreamName: string, manifest: FetchedManifest, tag: string | null): void {
    const key = `${repositoryId}/${manifest.digest}/${tag ?? ""}`;
    if (this.caching.has(key)) return;
    const work = this.cacheManifest(name, repositoryId, upstream, upstreamName, manifest, tag)
      .catch((error) => this.options.onError(new Error(`caching ${upstreamName}@${manifest.digest} from ${upstream.base} failed: ${message(error)}`)))
      .finally(() => this.caching.delete(key));
    this.caching.set(key, work);
  }

  /** Stores a manifest once what it refers to is stored: child manifests (fetched) and blobs (see ensureBlob). */
  private async cacheManifest(
    name: string,
    repositoryId: number,
    upstream: RemoteRegistry,
    upstreamName: string,
    manifest: FetchedManifest,
    tag: string | null,
  ): Promise<void> {
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    await Promise.all(
      parsed.references.map(async (reference) => {
        if (reference.kind === "blob") return this.ensureBlob(repositoryId, upstream, upstreamName, reference.digest);
        if (await this.metadata.manifestByDigest(repositoryId, reference.digest)) return;
        const child = await upstream.manifest(upstreamName, reference.digest);
        if (!child) throw new Error(`the upstream no longer has ${reference.digest}, a child of ${manifest.digest}`);
        await this.cacheManifest(name, repositoryId, upstream, upstreamName, child, null);
      }),
    );
    await this.metadata.putManifest(
      repositoryId,
      {
        digest: manifest.digest,
        mediaType: parsed.mediaType,
        content: manifest.content,
        artifactType: parsed.artifactType,
        subjectDigest: parsed.subject?.digest ?? null,
        annotations: parsed.annotations,
        references: parsed.references,
      },
      tag,
    );
    this.options.onCached?.(name, manifest.digest);
  }

  /** Waits for the client to pull a blob (its pull stores it); after `patienceMs` fetches it from the upstream instead. */
  private async ensureBlob(repositoryId: number, upstream: RemoteRegistry, upstreamName: string, digest: string): Promise<void> {
    const key = `${repositoryId}/${digest}`;
    const until = Date.now() + this.options.patienceMs;
    for (;;) {
      const inFlight = this.fetching.get(key);
      if (inFlight) {
        await inFlight.catch(() => undefined);
        continue;
      }
      if ((await this.linkStored(repositoryId, digest)) !== null) return;
      if (this.closing) throw new Error("the registry is stopping");
      if (Date.now() >= until) break;
      await sleep(Math.min(250, Math.max(1, until - Date.now())));
    }
    await this.track(key, (async () => this.storeBlob(repositoryId, digest, await upstream.blob(upstreamName, digest)))());
  }
}
