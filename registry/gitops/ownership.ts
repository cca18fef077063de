import type { Queryable } from "../db/sql";

/**
 * Where a controller's policy files come from. Two controllers with different sources would undo each other's
 * changes on every drift run, so a registry is managed by exactly one source at a time.
 */
export interface PolicySourceId {
  /** A git URL, or the absolute path of a repository or plain directory. */
  repo: string;
  /** The branch followed; "" for a directory that is not a git work tree. */
  branch: string;
  /** The policy files' directory inside the repository; "" for its root. */
  dir: string;
}

export function describeSource(source: PolicySourceId): string {
  return `${source.repo}${source.branch ? ` (branch ${source.branch})` : ""}${source.dir ? ` directory ${source.dir}` : ""}`;
}

export function sameSource(a: PolicySourceId, b: PolicySourceId): boolean {
  return a.repo === b.repo && a.branch === b.branch && a.dir === b.dir;
}

export class SourceConflict extends Error {
  constructor(readonly managing: PolicySourceId) {
    super(`this registry is managed by ${describeSource(managing)}; apply from there, or pass --take-over to make this source the managing one`);
  }
}

export type ClaimOutcome = { outcome: "claimed" | "same" } | { outcome: "taken-over"; previous: PolicySourceId };

/**
 * Registers `requested` as the managing source when none is, accepts it when it already is, and replaces another
 * only with `takeOver`. Runs inside the caller's transaction (the row is locked), so two first claims cannot both win.
 */
export async function claimSource(tx: Queryable, requested: PolicySourceId, takeOver: boolean, claimedBy: string): Promise<ClaimOutcome> {
  const [current] = await tx.query<PolicySourceId>("SELECT repo, branch, dir FROM controller_source FOR UPDATE");
  if (current && sameSource(current, requested)) return { outcome: "same" };
  if (current && !takeOver) throw new SourceConflict(current);
  await tx.query(
    `INSERT INTO controller_source (id, repo, branch, dir, claimed_by) VALUES (true, $1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET repo = EXCLUDED.repo, branch = EXCLUDED.branch, dir = EXCLUDED.dir,
       claimed_by = EXCLUDED.claimed_by, claimed_at = now()`,
    [requested.repo, requested.branch, requested.dir, claimedBy],
  );
  return current ? { outcome: "taken-over", previous: current } : { outcome: "claimed" };
}

export async function managingSource(sql: Queryable): Promise<(PolicySourceId & { claimed_by: string; claimed_at: Date }) | null> {
  const [row] = await sql.query<PolicySourceId & { claimed_by: string; claimed_at: Date }>("SELECT repo, branch, dir, claimed_by, claimed_at FROM controller_source");
  return row ?? null;
}
