/** Harbor's webhook event types (HARBOR-MODEL §9.3). */
export const EVENT_TYPES = [
  "PUSH_ARTIFACT",
  "PULL_ARTIFACT",
  "DELETE_ARTIFACT",
  "SCANNING_COMPLETED",
  "SCANNING_FAILED",
  "SCANNING_STOPPED",
  "QUOTA_EXCEED",
  "QUOTA_WARNING",
  "REPLICATION",
  "TAG_RETENTION",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && (EVENT_TYPES as readonly string[]).includes(value);
}

/** Something that happened in a project that webhooks may be told about. */
export interface RegistryEvent {
  type: EventType;
  projectId: number;
  /** Who caused it: a username, a robot name, or "anonymous". */
  operator: string;
  occurredAt: Date;
  /** The repository (full name `project/repo`) the event is about, when there is one. */
  repository: { name: string; public: boolean } | null;
  /** The artifacts concerned: digest, and the tag when the event came through one. */
  resources: { digest: string; tag: string | null }[];
  /** Event-specific data: QUOTA_* carry `{ message }`, TAG_RETENTION and REPLICATION their own summaries. */
  details?: Record<string, unknown>;
}

/**
 * Where events go. Called after the change that caused the event has committed; it records the event durably
 * (or decides nobody listens) and returns quickly: delivery happens elsewhere and never holds up the request.
 * It does not throw: a failure to record is logged by the publisher.
 */
export interface EventPublisher {
  publish(event: RegistryEvent): Promise<void>;
}

/** For contexts that have no listeners (tools, tests of other parts). */
export const NO_EVENTS: EventPublisher = { publish: async () => undefined };

/** Publishes every event to each of `publishers` (webhooks, replication triggers). */
export function fanOut(publishers: EventPublisher[]): EventPublisher {
  return { publish: async (event) => void (await Promise.all(publishers.map((publisher) => publisher.publish(event)))) };
}
