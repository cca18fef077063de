import type { ApiClient } from "../api-client";
import type { Policy, RetentionRule } from "../policy/model";
import { desiredState } from "../state/desired";
import type { LiveState } from "../state/kinds";
import { readLiveState } from "../state/live";
import { accessChanges, type AccessChange } from "./access";
import { diff, type Change } from "./diff";
import { retentionImpact, type DoomedArtifact } from "./retention-impact";

export interface Plan {
  changes: Change[];
  access: AccessChange[];
  /** Per project whose retention changes: what the new rules would delete now. */
  retention: { project: string; deletes: DoomedArtifact[] }[];
  live: LiveState;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  blocked: number;
}

export function summarize(changes: Change[]): PlanSummary {
  const count = (predicate: (change: Change) => boolean) => changes.filter(predicate).length;
  return {
    create: count((c) => c.action === "create" && !c.blocked),
    update: count((c) => c.action === "update" && !c.blocked),
    delete: count((c) => c.action === "delete" && !c.blocked),
    blocked: count((c) => Boolean(c.blocked)),
  };
}

/** Marks what cannot be applied, so the plan says so instead of an apply failing halfway. */
function markBlocked(changes: Change[], policy: Policy, live: LiveState, controllerUser: string): void {
  const users = new Set([...live.user.keys(), ...policy.users.map((u) => u.username)]);
  for (const change of changes) {
    if (change.kind === "member" && change.action !== "delete") {
      const user = change.key.slice(change.key.indexOf("/") + 1);
      if (!users.has(user)) change.blocked = `user ${user} does not exist (declare it under users: in members.yaml)`;
    }
    if (change.kind === "user" && change.action === "create" && !policy.users.find((u) => u.username === change.key)?.passwordFrom) {
      change.blocked = "a new user needs passwordFrom (env:NAME or file:PATH) for the initial password";
    }
    // The controller never takes away its own way in.
    if (change.kind === "user" && change.key === controllerUser && change.fields.some((f) => f.field === "admin" && f.after === false)) {
      change.blocked = `${controllerUser} is the user the controller applies as: it cannot drop its own admin rights`;
    }
  }
}

/** Desired vs live, with the access each user gains or loses and what retention changes would delete now. */
export async function makePlan(client: ApiClient, policy: Policy, controllerUser: string): Promise<Plan> {
  const desired = desiredState(policy);
  const live = await readLiveState(client, policy);
  const changes = diff(desired, live);
  markBlocked(changes, policy, live, controllerUser);
  const retention = [];
  for (const change of changes.filter((c) => c.kind === "retention" && live.project.has(c.key))) {
    retention.push({ project: change.key, deletes: await retentionImpact(client, change.key, (change.desired as { rules: RetentionRule[] }).rules) });
  }
  return { changes, access: accessChanges(desired, live), retention, live };
}
