import type { RoleName } from "../policy/model";
import type { Fields, LiveState, State } from "../state/kinds";

/** What each role may do with images (Harbor's matrix, repository actions only). */
const ROLE_ACTIONS: Record<RoleName, string[]> = {
  projectAdmin: ["pull", "push", "delete"],
  maintainer: ["pull", "push", "delete"],
  developer: ["pull", "push"],
  guest: ["pull"],
  limitedGuest: ["pull"],
};

export interface AccessChange {
  /** A user, or "anyone" for a project turning public or private. */
  who: string;
  project: string;
  gains: string[];
  loses: string[];
}

function actionsOf(role: unknown): Set<string> {
  return new Set(ROLE_ACTIONS[role as RoleName] ?? []);
}

/**
 * Who gains or loses pull, push or delete where, if the plan is applied: members added, removed or re-roled, and
 * projects made public (anyone may pull) or private. Only the members the files manage are compared.
 */
export function accessChanges(desired: State, live: LiveState, deleting: Set<string> = new Set()): AccessChange[] {
  const changes: AccessChange[] = [];
  const keys = new Set([...desired.member.keys(), ...[...live.member.keys()].filter((key) => deleting.has(key))]);
  for (const key of [...keys].sort()) {
    const [project, who] = key.split("/");
    const before = actionsOf(live.member.get(key)?.fields.role);
    const after = deleting.has(key) ? new Set<string>() : actionsOf((desired.member.get(key) as Fields).role);
    const gains = [...after].filter((a) => !before.has(a));
    const loses = [...before].filter((a) => !after.has(a));
    if (gains.length || loses.length) changes.push({ who, project, gains, loses });
  }
  for (const [project, fields] of desired.project) {
    const was = live.project.get(project)?.fields.public === true;
    if (fields.public === true && !was) changes.push({ who: "anyone", project, gains: ["pull"], loses: [] });
    if (fields.public === false && was) changes.push({ who: "anyone", project, gains: [], loses: ["pull"] });
  }
  return changes;
}
