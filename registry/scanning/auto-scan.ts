import type { EventPublisher, RegistryEvent } from "../events/events";
import type { ProjectStore } from "../projects/projects";
import type { ScanService } from "./scan-service";

/** Pushes gathered into one queuing statement: at most this long after a push, or this many at once. */
const GATHER_MS = 100;
const GATHER_MAX = 500;

/**
 * `auto_scan`: every image pushed into a project that asks for it is queued for a scan (pushes by clients,
 * replication and migration all arrive as pushes; a proxy cache calls queue() for what it stores). The push does not
 * wait: pushes are gathered after they answered and queued together, a statement for many, so a busy registry's
 * pushes do not pay a round of queries each. Indexes and other artifacts are left out (an index's images were pushed
 * before it), and so are images already scanned.
 */
export class AutoScan implements EventPublisher {
  private gathered: Array<{ repository: string; digest: string }> = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly projects: ProjectStore,
    private readonly scans: ScanService,
    private readonly onError: (error: unknown) => void,
    private readonly onQueueFull: (skipped: number) => void = () => undefined,
  ) {}

  async publish(event: RegistryEvent): Promise<void> {
    if (event.type !== "PUSH_ARTIFACT" || !event.repository) return;
    void this.queue(event.repository.name, event.resources.map((resource) => resource.digest));
  }

  /** Gathers images of `repository` for a scan when its project asks for auto_scan; never throws. */
  async queue(repository: string, digests: string[]): Promise<void> {
    try {
      const project = await this.projects.findRefByName(repository.split("/")[0]);
      if (project?.metadata.auto_scan !== "true") return;
      for (const digest of digests) this.gathered.push({ repository, digest });
      if (this.gathered.length >= GATHER_MAX) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), GATHER_MS);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Queues what was gathered (also on close, so that no push is left unscanned). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.gathered;
    this.gathered = [];
    if (items.length > 0) {
      this.flushing = this.flushing.then(async () => {
        try {
          if (!(await this.scans.requestPushed(items))) this.onQueueFull(items.length);
        } catch (error) {
          this.onError(error);
        }
      });
    }
    return this.flushing;
  }
}
