import type { Queryable } from "../db/sql";

// Pulls are the hot path: they are counted in memory and written once a second, one statement per repository and
// artifact pulled. A crash loses at most the last second of counts.
const FLUSH_INTERVAL_MS = 1000;

/** Counts pulls per repository and remembers each artifact's last pull time. */
export class PullStats {
  private pending = new Map<string, { repositoryId: number; digest: string; count: number; at: Date }>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Queryable,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  record(repositoryId: number, digest: string): void {
    const key = `${repositoryId}@${digest}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.count += 1;
      entry.at = new Date();
    } else {
      this.pending.set(key, { repositoryId, digest, count: 1, at: new Date() });
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes what was counted (also called on shutdown). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        for (const { repositoryId, digest, count, at } of batch) {
          await this.db.query("UPDATE repositories SET pull_count = pull_count + $2 WHERE id = $1", [repositoryId, count]);
          await this.db.query(
            "UPDATE manifests SET pull_time = GREATEST(coalesce(pull_time, $3), $3) WHERE repository_id = $1 AND digest = $2",
            [repositoryId, digest, at],
          );
        }
      } catch (error) {
        this.onError(error);
      }
    });
    return this.flushing;
  }
}
