import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { Queryable } from "../db/sql";
import { EVENT_TYPES, isEventType, type EventType } from "../events/events";
import { OutboundRefused, type OutboundGuard } from "../outbound/address-guard";
import type { SecretBox } from "../secrets/secret-box";
import { PAYLOAD_FORMATS, type PayloadFormat } from "./payloads";

export interface WebhookTarget {
  type: "http";
  address: string;
  /** Sent verbatim as Authorization; write-only through the API. */
  auth_header: string;
  skip_cert_verify: boolean;
  payload_format: PayloadFormat;
  /** Key of the body's HMAC-SHA256 signature; write-only through the API. */
  secret: string;
}

export interface WebhookPolicy {
  id: number;
  project_id: number;
  name: string;
  description: string;
  enabled: boolean;
  event_types: EventType[];
  targets: WebhookTarget[];
  creator: string;
  created_at: Date;
  updated_at: Date;
}

export type PolicyInput = Pick<WebhookPolicy, "name" | "description" | "enabled" | "event_types" | "targets">;

export class PolicyError extends Error {}

const NAME_MAX = 255;

function fail(message: string): never {
  throw new PolicyError(message);
}

/**
 * A webhook address: absolute http(s), without credentials; query and fragment are dropped as Harbor does (they
 * are where tokens leak from logs).
 */
function parseAddress(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") fail(`${where}.address is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${where}.address is not a URL: ${JSON.stringify(value.slice(0, 200))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`${where}.address must be http:// or https://, got ${url.protocol}`);
  if (url.username || url.password) fail(`${where}.address must not hold credentials; use auth_header`);
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** A target from the request; `previous` supplies the write-only fields a client left out. */
function parseTarget(value: unknown, where: string, previous: WebhookTarget | undefined): WebhookTarget {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${where} must be an object`);
  const target = value as Record<string, unknown>;
  if ((target.type ?? "http") !== "http") fail(`${where}.type must be "http" (slack is not supported)`);
  const format = target.payload_format ?? "Default";
  if (!PAYLOAD_FORMATS.includes(format as PayloadFormat)) fail(`${where}.payload_format must be one of ${PAYLOAD_FORMATS.join(", ")}`);
  if (target.skip_cert_verify !== undefined && typeof target.skip_cert_verify !== "boolean") fail(`${where}.skip_cert_verify must be a boolean`);
  const writeOnly = (key: "auth_header" | "secret"): string => {
    const given = target[key];
    if (given === undefined || given === null) return previous?.[key] ?? "";
    if (typeof given !== "string" || given.includes("\0") || given.length > 4096) fail(`${where}.${key} must be a string`);
    return given;
  };
  return {
    type: "http",
    address: parseAddress(target.address, where),
    auth_header: writeOnly("auth_header"),
    skip_cert_verify: (target.skip_cert_verify as boolean | undefined) ?? false,
    payload_format: format as PayloadFormat,
    secret: writeOnly("secret"),
  };
}

/**
 * Validates a WebhookPolicy body (Harbor: at least one target and one known event type). At most `maxTargets`
 * targets: every event becomes one delivery per target, each retried, so targets multiply outbound traffic.
 */
export function parsePolicy(body: Record<string, unknown>, maxTargets: number, previous?: WebhookPolicy): PolicyInput {
  const { name, description, enabled, event_types, targets } = body;
  if (typeof name !== "string" || name.trim() === "" || name.length > NAME_MAX || name.includes("\0")) fail("name is required (at most 255 characters)");
  if (description !== undefined && description !== null && typeof description !== "string") fail("description must be a string");
  if (enabled !== undefined && typeof enabled !== "boolean") fail("enabled must be a boolean");
  if (!Array.isArray(event_types) || event_types.length === 0) fail("event_types needs at least one event type");
  for (const type of event_types) if (!isEventType(type)) fail(`unknown event type ${JSON.stringify(type)}; known: ${EVENT_TYPES.join(", ")}`);
  if (!Array.isArray(targets) || targets.length === 0) fail("targets needs at least one target");
  if (targets.length > maxTargets) fail(`a policy may have at most ${maxTargets} targets (BERTH_WEBHOOK_MAX_TARGETS), got ${targets.length}`);
  return {
    name,
    description: (description as string | undefined) ?? "",
    enabled: (enabled as boolean | undefined) ?? true,
    event_types: [...new Set(event_types as EventType[])],
    targets: targets.map((target, i) => parseTarget(target, `targets[${i}]`, previous?.targets[i])),
  };
}

/**
 * Refuses targets whose address the guard refuses now (loopback, metadata, …). A name that does not resolve yet is
 * accepted: every delivery is checked again when it is sent.
 */
export async function checkTargets(input: PolicyInput, guard: OutboundGuard): Promise<void> {
  for (const [i, target] of input.targets.entries()) {
    try {
      await guard.check(target.address);
    } catch (error) {
      if (error instanceof OutboundRefused) fail(`targets[${i}].address: ${error.message}`);
    }
  }
}

/** A target as stored: its Authorization header and signing secret encrypted (unchanged when already sealed). */
export function sealTarget(box: Pick<SecretBox, "reseal">, target: WebhookTarget): WebhookTarget {
  return { ...target, auth_header: box.reseal(target.auth_header), secret: box.reseal(target.secret) };
}

/** A stored target with its Authorization header and signing secret in plain text again. */
export function openTarget(box: Pick<SecretBox, "open">, target: WebhookTarget): WebhookTarget {
  return { ...target, auth_header: box.open(target.auth_header), secret: box.open(target.secret) };
}

const COLUMNS = "id, project_id, name, description, enabled, event_types, targets, creator, created_at, updated_at";

/** Webhook policies, and the question every event asks: who listens? */
export class WebhookPolicies {
  // Every push asks; policies change rarely. This node's writes invalidate at once, other nodes' within the TTL.
  private readonly listening = new ReadCache<WebhookPolicy[]>({ max: 1000, ttlMs: CACHE_TTL_MS });

  constructor(
    private readonly db: Queryable,
    private readonly secrets: SecretBox,
  ) {}

  /** Policies as callers see them: secrets decrypted (they are encrypted in the database). */
  private opened(rows: WebhookPolicy[]): WebhookPolicy[] {
    return rows.map((row) => ({ ...row, targets: row.targets.map((target) => openTarget(this.secrets, target)) }));
  }

  private stored(targets: WebhookTarget[]): string {
    return JSON.stringify(targets.map((target) => sealTarget(this.secrets, target)));
  }

  async list(projectId: number, limit: number, offset: number): Promise<{ rows: WebhookPolicy[]; total: number }> {
    const [{ total }] = await this.db.query<{ total: number }>("SELECT count(*)::int AS total FROM webhook_policies WHERE project_id = $1", [projectId]);
    const rows = await this.db.query<WebhookPolicy>(
      `SELECT ${COLUMNS} FROM webhook_policies WHERE project_id = $1 ORDER BY id LIMIT ${limit} OFFSET ${offset}`,
      [projectId],
    );
    return { rows: this.opened(rows), total };
  }

  async get(projectId: number, id: number): Promise<WebhookPolicy | null> {
    const [row] = await this.db.query<WebhookPolicy>(`SELECT ${COLUMNS} FROM webhook_policies WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return row ? this.opened([row])[0] : null;
  }

  /** Creates a policy; null when the project already has one of that name. */
  async create(projectId: number, input: PolicyInput, creator: string, db: Queryable = this.db): Promise<number | null> {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO webhook_policies (project_id, name, description, enabled, event_types, targets, creator)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, name) DO NOTHING RETURNING id`,
      [projectId, input.name, input.description, input.enabled, JSON.stringify(input.event_types), this.stored(input.targets), creator],
    );
    return row?.id ?? null;
  }

  async update(projectId: number, id: number, input: PolicyInput, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      `UPDATE webhook_policies SET name = $3, description = $4, enabled = $5, event_types = $6, targets = $7, updated_at = now()
        WHERE project_id = $1 AND id = $2 RETURNING id`,
      [projectId, id, input.name, input.description, input.enabled, JSON.stringify(input.event_types), this.stored(input.targets)],
    );
    return rows.length > 0;
  }

  async delete(projectId: number, id: number, db: Queryable = this.db): Promise<boolean> {
    return (await db.query("DELETE FROM webhook_policies WHERE project_id = $1 AND id = $2 RETURNING id", [projectId, id])).length > 0;
  }

  /** Drops this node's cached policies of a project; call after a policy change commits. */
  forget(projectId: number): void {
    this.listening.delete(String(projectId));
  }

  /**
   * The enabled policies of a project subscribed to `type`, with their targets as stored (secrets still encrypted):
   * the outbox copies them into deliveries as they are and decrypts only when it sends.
   */
  async listeners(projectId: number, type: EventType): Promise<WebhookPolicy[]> {
    const enabled = await this.listening.get(String(projectId), () =>
      this.db.query<WebhookPolicy>(`SELECT ${COLUMNS} FROM webhook_policies WHERE project_id = $1 AND enabled ORDER BY id`, [projectId]),
    );
    return (enabled ?? []).filter((policy) => policy.event_types.includes(type));
  }
}
