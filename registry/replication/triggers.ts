import type { EventPublisher, RegistryEvent } from "../events/events";
import type { Scheduler } from "../scheduler/scheduler";
import { planEvent, REPLICATION_JOB, type ReplicationEvent } from "./job";
import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { ReplicationStore, StoredReplicationPolicy } from "./store";

const KINDS: Partial<Record<RegistryEvent["type"], ReplicationEvent["kind"]>> = { PUSH_ARTIFACT: "push", DELETE_ARTIFACT: "delete" };

/**
 * Starts event-based replication: each artifact pushed or deleted here runs every enabled event-based policy that
 * selects it, as an execution of its own. An event missed (a crash between commit and start) or failed is healed by
 * the policy's periodic full reconcile.
 */
export class ReplicationTriggers implements EventPublisher {
  // Every push asks this: a policy change (on any node) takes effect within the cache's TTL, like other hot reads.
  private readonly policies = new ReadCache<StoredReplicationPolicy[]>({ max: 1, ttlMs: CACHE_TTL_MS });

  constructor(
    private readonly store: ReplicationStore,
    private readonly scheduler: Scheduler,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Drops the cached policies (a policy changed on this node: the next push sees it at once). */
  forget(): void {
    this.policies.clear();
  }

  async publish(event: RegistryEvent): Promise<void> {
    const kind = KINDS[event.type];
    if (!kind || !event.repository) return;
    try {
      const policies = (await this.policies.get("event-based", () => this.store.eventBased())) ?? [];
      for (const resource of event.resources) {
        const replicated: ReplicationEvent = { kind, repository: event.repository.name, tag: resource.tag, digest: resource.digest };
        for (const { id, policy } of policies) {
          if (planEvent(policy, replicated).length > 0) await this.scheduler.run(REPLICATION_JOB, id, "EVENT", { event: replicated });
        }
      }
    } catch (error) {
      this.onError(error);
    }
  }
}
