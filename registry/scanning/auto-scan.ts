import type { EventPublisher, RegistryEvent } from "../events/events";
import type { ProjectStore } from "../projects/projects";
import { NotScannableError, type ScanService } from "./scan-service";

/**
 * `auto_scan`: every image pushed into a project that asks for it is queued for a scan (pushes by clients,
 * replication and migration all arrive as pushes). The push does not wait: queuing happens after it answered.
 * An index is not queued itself: its images were pushed (and queued) before it.
 */
export class AutoScan implements EventPublisher {
  constructor(
    private readonly projects: ProjectStore,
    private readonly scans: ScanService,
    private readonly onError: (error: unknown) => void,
  ) {}

  async publish(event: RegistryEvent): Promise<void> {
    if (event.type !== "PUSH_ARTIFACT" || !event.repository) return;
    const repository = event.repository.name;
    void this.queue(repository, event.resources.map((resource) => resource.digest));
  }

  private async queue(repository: string, digests: string[]): Promise<void> {
    try {
      const project = await this.projects.findRefByName(repository.split("/")[0]);
      if (project?.metadata.auto_scan !== "true") return;
      for (const digest of digests) {
        try {
          await this.scans.request(repository, digest, "EVENT", { imagesOnly: true });
        } catch (error) {
          if (!(error instanceof NotScannableError)) throw error;
        }
      }
    } catch (error) {
      this.onError(error);
    }
  }
}
