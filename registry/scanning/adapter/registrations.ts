import { randomUUID } from "node:crypto";
import type { Queryable } from "../../db/sql";
import type { SecretBox } from "../../secrets/secret-box";

/** How Berth authenticates to an adapter (Harbor's ScannerRegistration `auth`). */
export const ADAPTER_AUTH_TYPES = ["", "Basic", "Bearer", "X-ScannerAdapter-API-Key"] as const;
export type AdapterAuthType = (typeof ADAPTER_AUTH_TYPES)[number];

export interface ScannerRegistration {
  uuid: string;
  name: string;
  description: string;
  url: string;
  auth: AdapterAuthType;
  /** Plain here, sealed in the database; never returned by the API. */
  access_credential: string;
  skip_cert_verify: boolean;
  use_internal_addr: boolean;
  disabled: boolean;
  is_default: boolean;
  adapter: string;
  vendor: string;
  version: string;
  created_at: Date;
  updated_at: Date;
}

export type RegistrationInput = Pick<
  ScannerRegistration,
  "name" | "description" | "url" | "auth" | "access_credential" | "skip_cert_verify" | "use_internal_addr" | "disabled"
>;

const COLUMNS = `uuid, name, description, url, auth, access_credential, skip_cert_verify, use_internal_addr, disabled, is_default,
  adapter, vendor, version, created_at, updated_at`;

/** A name or URL another registration has. */
export class RegistrationConflictError extends Error {}

/**
 * External scanners registered by URL, which one is the default, and which one each project chose. The embedded
 * scanner is not stored: it is the default while no registration is.
 */
export class ScannerRegistrations {
  constructor(
    private readonly db: Queryable,
    private readonly secrets: SecretBox,
  ) {}

  private opened(row: ScannerRegistration): ScannerRegistration {
    return { ...row, access_credential: this.secrets.open(row.access_credential) };
  }

  async list(): Promise<ScannerRegistration[]> {
    return (await this.db.query<ScannerRegistration>(`SELECT ${COLUMNS} FROM scanner_registrations ORDER BY created_at, uuid`)).map((row) => this.opened(row));
  }

  async get(uuid: string): Promise<ScannerRegistration | null> {
    const [row] = await this.db.query<ScannerRegistration>(`SELECT ${COLUMNS} FROM scanner_registrations WHERE uuid = $1`, [uuid]);
    return row ? this.opened(row) : null;
  }

  async create(input: RegistrationInput): Promise<string> {
    const uuid = randomUUID();
    await this.unique(() =>
      this.db.query(
        `INSERT INTO scanner_registrations (uuid, name, description, url, auth, access_credential, skip_cert_verify, use_internal_addr, disabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [uuid, input.name, input.description, input.url, input.auth, this.secrets.seal(input.access_credential), input.skip_cert_verify, input.use_internal_addr, input.disabled],
      ),
    );
    return uuid;
  }

  async update(uuid: string, input: RegistrationInput): Promise<boolean> {
    const rows = await this.unique(() =>
      this.db.query(
        `UPDATE scanner_registrations SET name = $2, description = $3, url = $4, auth = $5, access_credential = $6, skip_cert_verify = $7,
                use_internal_addr = $8, disabled = $9, updated_at = now() WHERE uuid = $1 RETURNING uuid`,
        [uuid, input.name, input.description, input.url, input.auth, this.secrets.seal(input.access_credential), input.skip_cert_verify, input.use_internal_addr, input.disabled],
      ),
    );
    return rows.length > 0;
  }

  /** Removes a registration; projects that chose it fall back to the default scanner. */
  async delete(uuid: string): Promise<boolean> {
    await this.db.query("DELETE FROM project_scanners WHERE scanner = $1", [uuid]);
    return (await this.db.query("DELETE FROM scanner_registrations WHERE uuid = $1 RETURNING uuid", [uuid])).length > 0;
  }

  /** Makes `uuid` the default (null: the embedded scanner). */
  async setDefault(uuid: string | null): Promise<void> {
    await this.db.query("UPDATE scanner_registrations SET is_default = false WHERE is_default AND uuid IS DISTINCT FROM $1", [uuid]);
    if (uuid !== null) await this.db.query("UPDATE scanner_registrations SET is_default = true, updated_at = now() WHERE uuid = $1", [uuid]);
  }

  /** The default registration's uuid, or null when the embedded scanner is the default. */
  async defaultUuid(): Promise<string | null> {
    const [row] = await this.db.query<{ uuid: string }>("SELECT uuid FROM scanner_registrations WHERE is_default AND NOT disabled");
    return row?.uuid ?? null;
  }

  /** Records what the adapter says it is (its metadata), which names its reports. */
  async saveAdapterInfo(uuid: string, info: { name: string; vendor: string; version: string }): Promise<void> {
    await this.db.query("UPDATE scanner_registrations SET adapter = $2, vendor = $3, version = $4 WHERE uuid = $1", [uuid, info.name, info.vendor, info.version]);
  }

  /** The registration a project chose, or null (the default applies). */
  async projectChoice(projectId: number): Promise<string | null> {
    const [row] = await this.db.query<{ scanner: string }>("SELECT scanner FROM project_scanners WHERE project_id = $1", [projectId]);
    return row?.scanner ?? null;
  }

  async setProjectChoice(projectId: number, uuid: string): Promise<void> {
    await this.db.query("INSERT INTO project_scanners (project_id, scanner) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET scanner = EXCLUDED.scanner", [
      projectId,
      uuid,
    ]);
  }

  private async unique<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if ((error as { code?: string }).code === "23505") throw new RegistrationConflictError("another scanner registration has this name or URL");
      throw error;
    }
  }
}
