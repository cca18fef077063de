import type { Queryable } from "../db/sql";
import { describeSource, managingSource } from "./ownership";

/**
 * Which policy file declares each kind the controller manages (controller/state/kinds.ts): projects with their
 * settings, rules and replication in projects.yaml; users, members and robots in members.yaml.
 */
export const POLICY_FILES: Record<string, string> = {
  registry: "projects.yaml",
  project: "projects.yaml",
  label: "projects.yaml",
  immutability: "projects.yaml",
  configuration: "projects.yaml",
  retention: "projects.yaml",
  replication: "projects.yaml",
  user: "members.yaml",
  member: "members.yaml",
  robot: "members.yaml",
};

export interface ManagedObject {
  kind: string;
  key: string;
  file: string;
  /** Taken over from an object that existed before the controller, rather than created by it. */
  adopted: boolean;
  since: Date;
}

interface RunRow {
  id: number;
  commit: string;
  source: string;
  trigger: string;
  result: string;
  changes: number;
  summary: Record<string, unknown>;
  started_at: Date;
  finished_at: Date;
}

const RECENT_RUNS = 10;
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** A repository URL as shown: credentials a git URL may carry are never shown. */
function withoutCredentials(repo: string): string {
  return repo.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

function runToApi(run: RunRow) {
  return {
    id: run.id,
    commit: run.commit,
    author: text(run.summary.author),
    source: withoutCredentials(run.source),
    trigger: run.trigger,
    result: run.result,
    changes: run.changes,
    // What the run changed (a drift run: what it corrected), what it only found (drift: warn), and what failed.
    applied: strings(run.summary.applied),
    drifted: strings(run.summary.drifted),
    failures: strings(run.summary.failures),
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}

/**
 * The GitOps controller's state as a reader sees it (the web UI's GitOps page and "managed by policy" badges): the
 * managing source, the last applied commit, the last drift run and what it corrected, suspension, recent runs, and
 * which objects are managed. Read-only: the controller writes this state through /api/v2.0/controller.
 */
export class GitOpsStatus {
  constructor(private readonly db: Queryable) {}

  async status() {
    const source = await managingSource(this.db);
    const reverting = await this.reverting();
    const runs = await this.db.query<RunRow>(
      `SELECT id, commit, source, trigger, result, changes, summary, started_at, finished_at FROM controller_runs ORDER BY id DESC LIMIT ${RECENT_RUNS}`,
    );
    // The newest run that left the registry as its commit says, and when that commit was first applied.
    const [applied] = await this.db.query<RunRow & { first_applied_at: Date }>(
      `SELECT r.id, r.commit, r.source, r.trigger, r.result, r.changes, r.summary, r.started_at, r.finished_at,
              (SELECT min(f.finished_at) FROM controller_runs f WHERE f.commit = r.commit AND f.result IN ('success', 'no-op')) AS first_applied_at
         FROM controller_runs r WHERE r.result IN ('success', 'no-op') AND r.commit <> '' ORDER BY r.id DESC LIMIT 1`,
    );
    const [drift] = await this.db.query<RunRow>(
      "SELECT id, commit, source, trigger, result, changes, summary, started_at, finished_at FROM controller_runs WHERE trigger = 'schedule' ORDER BY id DESC LIMIT 1",
    );
    const watchers = await this.db.query<{ name: string; status: Record<string, unknown>; updated_at: Date }>(
      "SELECT name, status, updated_at FROM controller_watchers ORDER BY updated_at DESC LIMIT 20",
    );
    const counts = await this.db.query<{ kind: string; count: number }>("SELECT kind, count(*)::int AS count FROM controller_inventory GROUP BY kind ORDER BY kind");
    return {
      managed: source !== null,
      source: source && {
        repo: withoutCredentials(source.repo),
        branch: source.branch,
        dir: source.dir,
        description: describeSource({ ...source, repo: withoutCredentials(source.repo) }),
        claimed_by: source.claimed_by,
        claimed_at: source.claimed_at,
      },
      ...reverting,
      last_applied: applied
        ? { commit: applied.commit, author: text(applied.summary.author), applied_at: applied.first_applied_at, last_run_id: applied.id }
        : null,
      last_drift_run: drift ? runToApi(drift) : null,
      runs: runs.map(runToApi),
      watchers: watchers.map((w) => ({
        name: w.name,
        revision: w.status.revision ?? null,
        applied_revision: w.status.appliedRevision ?? null,
        last_result: w.status.lastResult ?? null,
        last_error: w.status.lastError ?? null,
        ready: w.status.ready === true,
        updated_at: w.updated_at,
      })),
      inventory: Object.fromEntries(counts.map((c) => [c.kind, c.count])),
    };
  }

  /** Managed objects, optionally of one kind, with the file that declares them. */
  async managed(kind?: string): Promise<ManagedObject[]> {
    const rows = await this.db.query<{ kind: string; key: string; adopted: boolean; created_at: Date }>(
      `SELECT kind, key, adopted, created_at FROM controller_inventory ${kind ? "WHERE kind = $1" : ""} ORDER BY kind, key`,
      kind ? [kind] : [],
    );
    return rows.map(managedObject);
  }

  /**
   * The managed objects of one project: the project itself, its members (`project/user`) and labels
   * (`project/name`), robots (`project+name`), immutable tag rules and retention policy. Replication policies and
   * global labels are system objects (see managed()).
   */
  async managedIn(project: string): Promise<ManagedObject[]> {
    const rows = await this.db.query<{ kind: string; key: string; adopted: boolean; created_at: Date }>(
      `SELECT kind, key, adopted, created_at FROM controller_inventory
        WHERE (kind IN ('project', 'immutability', 'retention') AND key = $1)
           OR (kind IN ('member', 'label') AND starts_with(key, $1 || '/'))
           OR (kind = 'robot' AND starts_with(key, $1 || '+'))
        ORDER BY kind, key`,
      [project],
    );
    return rows.map(managedObject);
  }

  /** Which of these projects the controller manages (for listings). */
  async managedProjects(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows = await this.db.query<{ key: string }>("SELECT key FROM controller_inventory WHERE kind = 'project' AND key = ANY($1::text[])", [names]);
    return new Set(rows.map((r) => r.key));
  }

  /**
   * Whether the controller puts hand-made changes back: not while suspended, nor when the files say `drift: warn` or
   * `off` (known from the last run; null before any).
   */
  async reverting(): Promise<{ suspended: boolean; suspend_reason: string; drift_mode: string | null }> {
    const [suspend] = await this.db.query<{ value: { suspended?: boolean; reason?: string } }>("SELECT value FROM controller_flags WHERE name = 'suspend'");
    const [latest] = await this.db.query<{ summary: Record<string, unknown> }>("SELECT summary FROM controller_runs ORDER BY id DESC LIMIT 1");
    return { suspended: suspend?.value.suspended ?? false, suspend_reason: suspend?.value.reason ?? "", drift_mode: latest ? text(latest.summary.drift_mode) || null : null };
  }
}

function managedObject(row: { kind: string; key: string; adopted: boolean; created_at: Date }): ManagedObject {
  return { kind: row.kind, key: row.key, file: POLICY_FILES[row.kind] ?? "", adopted: row.adopted, since: row.created_at };
}
