import { ApiError, type ApiClient } from "../api-client";
import type { Kind } from "./kinds";
import { describeSource, type PolicySourceId } from "../../registry/gitops/ownership";

export { describeSource, type PolicySourceId };

export interface InventoryItem {
  kind: Kind;
  key: string;
  /** Taken over from an object that existed before the controller, rather than created by it. */
  adopted: boolean;
}

export type Trigger = "commit" | "schedule" | "manual";
export type RunResult = "success" | "failed" | "no-op" | "drift";

export interface RunRecord {
  commit: string;
  /** The policy source the run read (describeSource). */
  source: string;
  trigger: Trigger;
  result: RunResult;
  changes: number;
  summary: Record<string, unknown>;
  started_at: string;
}

export class LockedError extends Error {}

/** The registry is managed by another policy source (the registry's message names it). */
export class SourceConflictError extends Error {}

/** What a watcher reports about itself to the registry. */
export interface WatcherReport {
  source: string;
  revision: string | null;
  appliedRevision: string | null;
  lastResult: string | null;
  lastError: string | null;
  ready: boolean;
}

export interface ControllerStatus {
  suspended: boolean;
  suspend_reason: string;
  lock: { holder: string; until: string } | null;
  source: (PolicySourceId & { claimed_by: string; claimed_at: string }) | null;
  watchers: { name: string; status: WatcherReport; updated_at: string }[];
}

/** What the controller keeps in the registry (/api/v2.0/controller): shared by every controller instance. */
export class ControllerState {
  constructor(private readonly client: ApiClient) {}

  async inventory(): Promise<InventoryItem[]> {
    const rows = (await this.client.get<InventoryItem[]>("/controller/inventory")) ?? [];
    return rows.map(({ kind, key, adopted }) => ({ kind, key, adopted }));
  }

  async changeInventory(add: InventoryItem[], remove: Pick<InventoryItem, "kind" | "key">[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    await this.client.patch("/controller/inventory", { add, remove });
  }

  /**
   * Takes the apply lock for `ttlSeconds` as `source`: LockedError when another controller holds it,
   * SourceConflictError when another source manages the registry (unless `takeOver`, which the registry audits).
   */
  async lock(holder: string, ttlSeconds: number, source: PolicySourceId, takeOver = false): Promise<void> {
    try {
      await this.client.post("/controller/lock", { holder, ttl_seconds: ttlSeconds, source, take_over: takeOver });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) throw new LockedError(error.message.replace(/^POST \S+ answered 409: /, ""));
      if (error instanceof ApiError && error.status === 412) throw new SourceConflictError(error.message.replace(/^POST \S+ answered 412: /, ""));
      throw error;
    }
  }

  async status(): Promise<ControllerStatus> {
    const status = await this.client.get<ControllerStatus>("/controller/status");
    return status ?? { suspended: false, suspend_reason: "", lock: null, source: null, watchers: [] };
  }

  async reportWatcher(name: string, report: WatcherReport): Promise<void> {
    await this.client.put(`/controller/watchers/${encodeURIComponent(name)}`, report);
  }

  async unlock(holder: string): Promise<void> {
    await this.client.delete(`/controller/lock?holder=${encodeURIComponent(holder)}`);
  }

  async suspended(): Promise<{ suspended: boolean; reason: string }> {
    const status = await this.client.get<{ suspended: boolean; suspend_reason: string }>("/controller/status");
    return { suspended: status?.suspended ?? false, reason: status?.suspend_reason ?? "" };
  }

  async setSuspended(suspended: boolean, reason: string): Promise<void> {
    await this.client.put("/controller/suspend", { suspended, reason });
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.client.post("/controller/runs", run);
  }

  async runs(limit: number): Promise<(RunRecord & { id: number; finished_at: string })[]> {
    return (await this.client.get<(RunRecord & { id: number; finished_at: string })[]>(`/controller/runs?page_size=${limit}`)) ?? [];
  }
}
