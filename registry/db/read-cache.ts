import { LRUCache } from "lru-cache";

/**
 * Remembers positive answers of hot metadata reads (project by name, repository id, tag → digest, manifests,
 * blob links) so that pulls do not wait on the database. Writes made through this process invalidate what they
 * change at once; a change made by another node sharing the database is seen within `ttlMs`. Absent answers
 * are never cached, so what another node creates is visible immediately.
 */
export class ReadCache<V extends NonNullable<unknown>> {
  private readonly entries: LRUCache<string, V>;

  constructor(options: { max: number; ttlMs: number; maxSize?: number; sizeOf?: (value: V) => number }) {
    this.entries = new LRUCache<string, V>({
      max: options.max,
      ttl: options.ttlMs,
      ...(options.maxSize ? { maxSize: options.maxSize, sizeCalculation: options.sizeOf ?? (() => 1) } : {}),
    });
  }

  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== null) this.entries.set(key, value);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key starts with `prefix` (e.g. all tags of one repository). */
  deletePrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** How long another node's change may take to be seen here. */
export const CACHE_TTL_MS = 3000;
