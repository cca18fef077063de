import type { Queryable } from "../db/sql";
import { CACHE_TTL_MS } from "../db/read-cache";
import { isRefusal, parseSettingValue, SETTING_DEFAULTS, SETTING_KEYS, type SettingKey, type SettingValues } from "./definitions";

/** Why a settings change was refused: the key is unknown, fixed by the environment, or its value is invalid. */
export class SettingRefused extends Error {}

/**
 * Harbor's run-time configuration: values an admin sets through PUT /configurations, kept in the database so every
 * node shares them. Each node reads them at most every CACHE_TTL_MS (a change made on another node is seen within
 * that), and at once after a change made through this node. A key set by its BERTH_* variable is fixed: the
 * variable wins and the API refuses to change it.
 */
export class Settings {
  private cache: { at: number; stored: Partial<SettingValues> } | null = null;
  private loading: Promise<Partial<SettingValues>> | null = null;
  /** Bumped by forget(): a read that started before is not kept (it may predate a change that just committed). */
  private generation = 0;

  constructor(
    private readonly db: Queryable,
    private readonly fixed: Partial<SettingValues>,
    private readonly now: () => number = Date.now,
  ) {}

  isFixed(key: SettingKey): boolean {
    return this.fixed[key] !== undefined;
  }

  /** The value the environment or an admin chose, or undefined (the caller's own default applies). */
  async chosen<K extends SettingKey>(key: K): Promise<SettingValues[K] | undefined> {
    return (this.fixed[key] ?? (await this.stored())[key]) as SettingValues[K] | undefined;
  }

  async get<K extends SettingKey>(key: K): Promise<SettingValues[K]> {
    return (await this.chosen(key)) ?? SETTING_DEFAULTS[key];
  }

  /**
   * Validates every change first, then writes them all in `tx` (with the caller's audit record); nothing is written
   * when one is refused. Returns the keys whose value changed.
   */
  async update(tx: Queryable, changes: Record<string, unknown>): Promise<SettingKey[]> {
    const parsed: [SettingKey, unknown][] = [];
    for (const [key, raw] of Object.entries(changes)) {
      if (!(SETTING_KEYS as readonly string[]).includes(key)) throw new SettingRefused(`${key} is not a setting Berth has; settings: ${SETTING_KEYS.join(", ")}`);
      const settingKey = key as SettingKey;
      if (this.isFixed(settingKey)) throw new SettingRefused(`${key} is set by the environment (${envVariableOf(settingKey)}) and cannot be changed here`);
      const value = parseSettingValue(settingKey, raw);
      if (isRefusal(value)) throw new SettingRefused(`${key} ${value.error}`);
      parsed.push([settingKey, value]);
    }
    const before = await this.stored();
    for (const [key, value] of parsed) {
      await tx.query(
        `INSERT INTO configurations (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()`,
        [key, JSON.stringify(value)],
      );
    }
    this.forget();
    return parsed.filter(([key, value]) => JSON.stringify(before[key] ?? SETTING_DEFAULTS[key]) !== JSON.stringify(value)).map(([key]) => key);
  }

  /** Drops the cached values (after a change, which may still be committing: the next read waits for the database). */
  forget(): void {
    this.cache = null;
    this.loading = null;
    this.generation += 1;
  }

  private async stored(): Promise<Partial<SettingValues>> {
    if (this.cache && this.now() - this.cache.at < CACHE_TTL_MS) return this.cache.stored;
    // One query for all concurrent readers (read_only is asked on every write request).
    if (!this.loading) {
      const loading = this.load().finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(): Promise<Partial<SettingValues>> {
    const generation = this.generation;
    const rows = await this.db.query<{ key: string; value: unknown }>("SELECT key, value FROM configurations");
    const stored: Partial<Record<SettingKey, unknown>> = {};
    for (const row of rows) {
      if (!(SETTING_KEYS as readonly string[]).includes(row.key)) continue;
      const value = parseSettingValue(row.key as SettingKey, row.value);
      // A row a newer version wrote in a shape this one refuses is ignored, not fatal: the default applies.
      if (!isRefusal(value)) stored[row.key as SettingKey] = value;
    }
    // A change was made through this node meanwhile (audit forwarding reads settings inside the change's own
    // transaction, before its commit): answer this caller, but keep nothing that may be older than the change.
    if (generation === this.generation) this.cache = { at: this.now(), stored: stored as Partial<SettingValues> };
    return stored as Partial<SettingValues>;
  }
}

/** The BERTH_* variable that fixes a key. */
export function envVariableOf(key: SettingKey): string {
  return `BERTH_${key.toUpperCase()}`;
}
