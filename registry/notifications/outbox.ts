import type { Queryable } from "../db/sql";
import type { EventPublisher, RegistryEvent } from "../events/events";
import type { OutboundGuard } from "../outbound/address-guard";
import { postJson } from "./http-post";
import { renderPayload, signature, SIGNATURE_HEADER } from "./payloads";
import type { SecretBox } from "../secrets/secret-box";
import { openTarget, type WebhookPolicies, type WebhookTarget } from "./policies";

export interface OutboxOptions {
  /** First retry delay; each further one doubles, up to maxDelayMs. */
  retryBaseMs: number;
  maxDelayMs: number;
  /** After this many attempts a delivery is given up (Error). */
  maxAttempts: number;
  /** A receiver that has not answered by then is cut off and the attempt counts as failed. */
  timeoutMs: number;
  /** Deliveries in flight at once on this node. */
  concurrency: number;
  /** How often due deliveries are looked for when nothing woke the dispatcher. */
  pollMs: number;
  /** Registry host for resource URLs (from BERTH_PUBLIC_URL), or null. */
  host: string | null;
  /** Decides which addresses deliveries may go to, at each attempt. */
  guard: OutboundGuard;
  onError: (error: unknown) => void;
}

export const DEFAULT_OUTBOX_OPTIONS: Omit<OutboxOptions, "host" | "guard" | "onError"> = {
  retryBaseMs: 1000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 8,
  timeoutMs: 10_000,
  concurrency: 4,
  pollMs: 1000,
};

interface Delivery {
  id: number;
  policy_id: number;
  event_type: string;
  target: WebhookTarget;
  payload: string;
  attempts: number;
}

export interface DeliveryRow {
  id: number;
  policy_id: number;
  event_type: string;
  status: "Pending" | "Running" | "Success" | "Error";
  attempts: number;
  last_error: string;
  /** The receiver's words with the last failure: for system admins only. */
  last_answer: string;
  created_at: Date;
  finished_at: Date | null;
  address: string;
}

export interface AttemptRow {
  id: number;
  delivery_id: number;
  started_at: Date;
  finished_at: Date;
  status_code: number | null;
  error: string;
  /** The receiver's words: for system admins only. */
  answer: string;
}

/** The delay before attempt `attempt + 1` after `attempt` failures: base · 2^(attempt−1), capped. */
export function retryDelay(attempt: number, options: Pick<OutboxOptions, "retryBaseMs" | "maxDelayMs">): number {
  return Math.min(options.retryBaseMs * 2 ** (attempt - 1), options.maxDelayMs);
}

/**
 * The durable webhook outbox. publish() writes one delivery row per listening target (in one statement, after the
 * change committed) and wakes the dispatcher; the dispatcher claims due rows with FOR UPDATE SKIP LOCKED (so two
 * nodes never send the same row at once), posts them off the request path, and records every attempt. A node that
 * dies mid-delivery leaves a lease that lapses, and the row is sent again.
 */
export class WebhookOutbox implements EventPublisher {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = true;

  constructor(
    private readonly db: Queryable,
    private readonly policies: WebhookPolicies,
    private readonly options: OutboxOptions,
    /** Deliveries hold their target's secrets encrypted, as the policy does. */
    private readonly secrets: SecretBox,
  ) {}

  async publish(event: RegistryEvent): Promise<void> {
    try {
      const listeners = await this.policies.listeners(event.projectId, event.type);
      const rows = listeners.flatMap((policy) =>
        policy.targets.map((target) => [policy.id, event.type, JSON.stringify(target), renderPayload(event, target.payload_format, { policyId: policy.id, host: this.options.host })]),
      );
      if (rows.length === 0) return;
      const values = rows.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`).join(", ");
      await this.db.query(`INSERT INTO webhook_deliveries (policy_id, event_type, target, payload) VALUES ${values}`, rows.flat());
      this.wake();
    } catch (error) {
      this.options.onError(error);
    }
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops looking for work and waits for deliveries in flight (each bounded by timeoutMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight);
  }

  private wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.dispatch(), ms);
    this.timer.unref();
  }

  private async dispatch(): Promise<void> {
    this.timer = null;
    try {
      const room = this.options.concurrency - this.inFlight.size;
      const claimed = room > 0 ? await this.claim(room) : [];
      for (const delivery of claimed) {
        const sending: Promise<void> = this.send(delivery)
          .catch((error) => this.options.onError(error))
          .finally(() => {
            this.inFlight.delete(sending);
            this.wake();
          });
        this.inFlight.add(sending);
      }
    } catch (error) {
      this.options.onError(error);
    }
    if (!this.stopped && !this.timer) this.schedule(this.options.pollMs);
  }

  /** Takes up to `limit` due deliveries (or ones whose sender's lease lapsed) for this node. */
  private claim(limit: number): Promise<Delivery[]> {
    const leaseSeconds = Math.ceil((this.options.timeoutMs * 2) / 1000);
    return this.db.query<Delivery>(
      `UPDATE webhook_deliveries d SET status = 'Running', lease_until = now() + make_interval(secs => $2)
        WHERE d.id IN (SELECT id FROM webhook_deliveries
                        WHERE (status = 'Pending' AND next_attempt_at <= now()) OR (status = 'Running' AND lease_until < now())
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.policy_id, d.event_type, d.target, d.payload, d.attempts`,
      [limit, leaseSeconds],
    );
  }

  private async send(delivery: Delivery): Promise<void> {
    const target = openTarget(this.secrets, delivery.target);
    const headers: Record<string, string> = {};
    if (target.auth_header) headers.Authorization = target.auth_header;
    if (target.secret) headers[SIGNATURE_HEADER] = signature(delivery.payload, target.secret);
    const startedAt = new Date();
    const result = await postJson(target.address, delivery.payload, headers, {
      timeoutMs: this.options.timeoutMs,
      skipCertVerify: target.skip_cert_verify,
      guard: this.options.guard,
    });
    const answer = result.answer.replace(/\0/g, "");
    try {
      await this.db.query("INSERT INTO webhook_attempts (delivery_id, started_at, status_code, error, answer) VALUES ($1, $2, $3, $4, $5)", [
        delivery.id,
        startedAt,
        result.status,
        result.error.replace(/\0/g, ""),
        answer,
      ]);
    } catch (error) {
      // The policy (and with it this delivery) was deleted while the request was out: nothing left to record.
      if ((error as { code?: string }).code === "23503") return;
      throw error;
    }
    const attempts = delivery.attempts + 1;
    if (result.error === "") {
      await this.db.query(
        "UPDATE webhook_deliveries SET status = 'Success', attempts = $2, last_error = '', last_answer = '', lease_until = NULL, finished_at = now() WHERE id = $1",
        [delivery.id, attempts],
      );
    } else if (result.refused || attempts >= this.options.maxAttempts) {
      // A refused address stays refused: no point trying it again.
      await this.db.query(
        "UPDATE webhook_deliveries SET status = 'Error', attempts = $2, last_error = $3, last_answer = $4, lease_until = NULL, finished_at = now() WHERE id = $1",
        [delivery.id, attempts, result.error, answer],
      );
    } else {
      await this.db.query(
        `UPDATE webhook_deliveries SET status = 'Pending', attempts = $2, last_error = $3, last_answer = $4, lease_until = NULL,
                next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1`,
        [delivery.id, attempts, result.error, answer, retryDelay(attempts, this.options) / 1000],
      );
    }
  }

  async deliveries(policyId: number, limit: number, offset: number): Promise<{ rows: DeliveryRow[]; total: number }> {
    const [{ total }] = await this.db.query<{ total: number }>("SELECT count(*)::int AS total FROM webhook_deliveries WHERE policy_id = $1", [policyId]);
    const rows = await this.db.query<DeliveryRow>(
      `SELECT id, policy_id, event_type, status, attempts, last_error, last_answer, created_at, finished_at, target->>'address' AS address
         FROM webhook_deliveries WHERE policy_id = $1 ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`,
      [policyId],
    );
    return { rows, total };
  }

  /**
   * Harbor's WebhookLastTrigger: for each policy of the project and each event type it subscribes to, when an event
   * of that type last became a delivery (null: never).
   */
  lastTriggers(projectId: number): Promise<{ policy_name: string; event_type: string; enabled: boolean; creation_time: Date; last_trigger_time: Date | null }[]> {
    return this.db.query(
      `SELECT p.name AS policy_name, t.event_type, p.enabled, p.created_at AS creation_time,
              (SELECT max(d.created_at) FROM webhook_deliveries d WHERE d.policy_id = p.id AND d.event_type = t.event_type) AS last_trigger_time
         FROM webhook_policies p CROSS JOIN LATERAL jsonb_array_elements_text(p.event_types) AS t(event_type)
        WHERE p.project_id = $1 ORDER BY p.name, t.event_type`,
      [projectId],
    );
  }

  async delivery(policyId: number, id: number): Promise<DeliveryRow | null> {
    const [row] = await this.db.query<DeliveryRow>(
      `SELECT id, policy_id, event_type, status, attempts, last_error, last_answer, created_at, finished_at, target->>'address' AS address
         FROM webhook_deliveries WHERE policy_id = $1 AND id = $2`,
      [policyId, id],
    );
    return row ?? null;
  }

  attempts(deliveryId: number): Promise<AttemptRow[]> {
    return this.db.query<AttemptRow>(
      "SELECT id, delivery_id, started_at, finished_at, status_code, error, answer FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id",
      [deliveryId],
    );
  }
}
