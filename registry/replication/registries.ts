import { containsPattern, type Queryable } from "../db/sql";
import { OutboundRefused, type OutboundGuard } from "../outbound/address-guard";
import type { SecretBox } from "../secrets/secret-box";
import { RemoteRegistry } from "./remote-registry";

/** Registry types Berth talks to: any OCI v2 registry works as docker-registry. */
export const REGISTRY_TYPES = ["docker-registry", "harbor", "berth"] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

export interface RegistryRow {
  id: number;
  name: string;
  description: string;
  type: RegistryType;
  url: string;
  credential_type: string;
  access_key: string;
  access_secret: string;
  insecure: boolean;
  status: "unknown" | "healthy" | "unhealthy";
  status_message: string;
  checked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type RegistryInput = Pick<RegistryRow, "name" | "description" | "type" | "url" | "credential_type" | "access_key" | "access_secret" | "insecure">;

/** The endpoint's credentials as `user:password`, or none. */
export function credentialsOf(endpoint: Pick<RegistryRow, "access_key" | "access_secret">): string | undefined {
  return endpoint.access_key ? `${endpoint.access_key}:${endpoint.access_secret}` : undefined;
}

type Endpoint = Pick<RegistryRow, "url" | "access_key" | "access_secret" | "insecure">;

const COLUMNS = "id, name, description, type, url, credential_type, access_key, access_secret, insecure, status, status_message, checked_at, created_at, updated_at";

/** Registry endpoints and their last known health. Their secrets are encrypted in the database, plain here. */
export class RegistryStore {
  constructor(
    private readonly db: Queryable,
    /** Every connection to an endpoint (and its token realm, and redirects) is checked by it. */
    readonly guard: OutboundGuard,
    private readonly secrets: SecretBox,
  ) {}

  private opened(row: RegistryRow): RegistryRow {
    return { ...row, access_secret: this.secrets.open(row.access_secret) };
  }

  /** A client for the endpoint with its credentials. */
  remote(endpoint: Endpoint, attempts = 1): RemoteRegistry {
    return new RemoteRegistry(endpoint.url, { credentials: credentialsOf(endpoint), attempts, timeoutMs: 15_000, insecure: endpoint.insecure, guard: this.guard });
  }

  /** Whether the endpoint answers /v2/ with these credentials: null when healthy, else what went wrong. */
  async healthProblem(endpoint: Endpoint): Promise<string | null> {
    try {
      await this.remote(endpoint).ping();
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Why the guard refuses the endpoint's address now, or null (a name that does not resolve yet is not refused). */
  async refusal(url: string): Promise<string | null> {
    try {
      await this.guard.check(url);
      return null;
    } catch (error) {
      return error instanceof OutboundRefused ? error.message : null;
    }
  }

  async list(name: string | undefined, limit: number, offset: number): Promise<{ rows: RegistryRow[]; total: number }> {
    const params = [name ? containsPattern(name) : null];
    const where = "($1::text IS NULL OR name ILIKE $1)";
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM registries WHERE ${where}`, params);
    const rows = await this.db.query<RegistryRow>(`SELECT ${COLUMNS} FROM registries WHERE ${where} ORDER BY id LIMIT ${limit} OFFSET ${offset}`, params);
    return { rows: rows.map((row) => this.opened(row)), total };
  }

  async get(id: number): Promise<RegistryRow | null> {
    const [row] = await this.db.query<RegistryRow>(`SELECT ${COLUMNS} FROM registries WHERE id = $1`, [id]);
    return row ? this.opened(row) : null;
  }

  /** Creates an endpoint; null when the name is taken. */
  async create(input: RegistryInput, db: Queryable = this.db): Promise<number | null> {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO registries (name, description, type, url, credential_type, access_key, access_secret, insecure)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING RETURNING id`,
      [input.name, input.description, input.type, input.url, input.credential_type, input.access_key, this.secrets.seal(input.access_secret), input.insecure],
    );
    return row?.id ?? null;
  }

  async update(id: number, input: RegistryInput, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query(
      `UPDATE registries SET name = $2, description = $3, type = $4, url = $5, credential_type = $6, access_key = $7, access_secret = $8,
              insecure = $9, status = 'unknown', status_message = '', updated_at = now() WHERE id = $1 RETURNING id`,
      [id, input.name, input.description, input.type, input.url, input.credential_type, input.access_key, this.secrets.seal(input.access_secret), input.insecure],
    );
    return rows.length > 0;
  }

  async delete(id: number, db: Queryable = this.db): Promise<boolean> {
    return (await db.query("DELETE FROM registries WHERE id = $1 RETURNING id", [id])).length > 0;
  }

  /** Checks one endpoint now and stores the outcome. */
  async check(id: number): Promise<void> {
    const endpoint = await this.get(id);
    if (!endpoint) return;
    const problem = await this.healthProblem(endpoint);
    await this.db.query("UPDATE registries SET status = $2, status_message = $3, checked_at = now() WHERE id = $1", [
      id,
      problem === null ? "healthy" : "unhealthy",
      problem ?? "",
    ]);
  }

  /** Re-checks every endpoint (the background health job). */
  async checkAll(): Promise<void> {
    for (const { id } of await this.db.query<{ id: number }>("SELECT id FROM registries ORDER BY id")) await this.check(id);
  }
}
