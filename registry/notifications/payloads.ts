import { createHmac, randomUUID } from "node:crypto";
import type { EventType, RegistryEvent } from "../events/events";

export type PayloadFormat = "Default" | "CloudEvents";
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ["Default", "CloudEvents"];

// CloudEvents `type` for each event (HARBOR-MODEL §9.3).
const CLOUD_EVENT_TYPES: Record<EventType, string> = {
  PUSH_ARTIFACT: "harbor.artifact.pushed",
  PULL_ARTIFACT: "harbor.artifact.pulled",
  DELETE_ARTIFACT: "harbor.artifact.deleted",
  SCANNING_COMPLETED: "harbor.scan.completed",
  SCANNING_FAILED: "harbor.scan.failed",
  SCANNING_STOPPED: "harbor.scan.stopped",
  QUOTA_EXCEED: "harbor.quota.exceeded",
  QUOTA_WARNING: "harbor.quota.warned",
  REPLICATION: "harbor.replication.status.changed",
  TAG_RETENTION: "harbor.tag_retention.finished",
};

/** Harbor's `event_data`: the artifacts concerned and their repository. `host` prefixes resource URLs when known. */
export function eventData(event: RegistryEvent, host: string | null): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (event.repository) {
    const name = event.repository.name;
    const slash = name.indexOf("/");
    data.repository = {
      name: name.slice(slash + 1),
      namespace: name.slice(0, slash),
      repo_full_name: name,
      repo_type: event.repository.public ? "public" : "private",
    };
    // Scan events carry the artifact's scan_overview on the resource, as Harbor's do.
    const overview = event.details?.scan_overview;
    data.resources = event.resources.map(({ digest, tag }) => ({
      digest,
      tag: tag ?? "",
      resource_url: `${host ? `${host}/` : ""}${name}${tag ? `:${tag}` : `@${digest}`}`,
      ...(overview ? { scan_overview: overview } : {}),
    }));
  }
  const { message, scan_overview: _overview, ...rest } = event.details ?? {};
  if (message !== undefined) data.custom_attributes = { Details: message };
  Object.assign(data, rest);
  return data;
}

/** The body a target receives, in its payload format. */
export function renderPayload(event: RegistryEvent, format: PayloadFormat, context: { policyId: number; host: string | null }): string {
  const data = eventData(event, context.host);
  if (format === "CloudEvents") {
    return JSON.stringify({
      specversion: "1.0",
      id: randomUUID(),
      source: `/projects/${event.projectId}/webhook/policies/${context.policyId}`,
      type: CLOUD_EVENT_TYPES[event.type],
      datacontenttype: "application/json",
      time: event.occurredAt.toISOString(),
      operator: event.operator,
      data,
    });
  }
  return JSON.stringify({ type: event.type, occur_at: Math.floor(event.occurredAt.getTime() / 1000), operator: event.operator, event_data: data });
}

/** `sha256=<hex>` HMAC of the exact body with the target's secret: the receiver recomputes it to trust the sender. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export const SIGNATURE_HEADER = "X-Berth-Signature-256";
