import type { ApiClient } from "../api-client";
import type { Policy, RetentionRule } from "../policy/model";
import { desiredState } from "../state/desired";
import type { Kind, LiveState } from "../state/kinds";
import type { InventoryItem } from "../state/registry-state";
import { readLiveState } from "../state/live";
import { accessChanges, type AccessChange } from "./access";
import { blockDependents } from "./dependencies";
import { ruleDetails } from "./rule-changes";
import { blockUnreadableSecrets } from "./secrets";
import { diff, type Change } from "./diff";
import { retentionImpact, type DoomedArtifact } from "./retention-impact";
import { preventionImpact, type PreventionImpact } from "./prevention-impact";

export interface Plan {
  changes: Change[];
  access: AccessChange[];
  /** Per project whose retention changes: what the new rules would delete now. */
  retention: { project: string; deletes: DoomedArtifact[] }[];
  /** Per existing project whose prevention threshold or allowlist changes (prevention on): the images it would refuse. */
  prevention: PreventionImpact[];
  live: LiveState;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  adopt: number;
  blocked: number;
}

/** A plan the controller will not carry out (it would delete everything it manages). */
export class PlanRefused extends Error {}

export function summarize(changes: Change[]): PlanSummary {
  const count = (predicate: (change: Change) => boolean) => changes.filter(predicate).length;
  return {
    create: count((c) => c.action === "create" && !c.blocked),
    update: count((c) => c.action === "update" && !c.blocked),
    delete: count((c) => c.action === "delete" && !c.blocked),
    adopt: count((c) => c.action === "adopt" && !c.blocked),
    blocked: count((c) => Boolean(c.blocked)),
  };
}

/** Marks what cannot be applied, so the plan says so instead of an apply failing halfway. */
function markBlocked(changes: Change[], policy: Policy, live: LiveState, controllerUser: string): void {
  const users = new Set([...live.user.keys(), ...policy.users.map((u) => u.username)]);
  for (const change of changes) {
    if (change.kind === "configuration" && change.action === "create") {
      change.blocked = `the registry has no setting ${change.key} (an older Berth?)`;
    }
    if (change.kind === "configuration" && live.configuration.get(change.key)?.ref.editable === false) {
      change.blocked = `the registry fixes ${change.key} with its BERTH_${change.key.toUpperCase()} variable; change it there or leave it out of the files`;
    }
    if (change.action === "adopt" && !policy.settings.adopt) {
      change.blocked = "it exists but the controller did not create it; set controller.adopt: true in projects.yaml to take it over";
    }
    if (change.action === "delete" && ((change.kind === "user" && change.key === controllerUser) || change.key.endsWith(`/${controllerUser}`))) {
      change.blocked = `${controllerUser} is the user the controller applies as: it does not remove its own access`;
    }
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

/** Kinds the controller prunes; project settings (immutability, retention) left out of the files are just unmanaged. */
const PRUNABLE: Kind[] = ["registry", "user", "project", "label", "member", "robot", "replication"];

/**
 * Desired vs live, with the access each user gains or loses, what retention changes would delete now and which
 * images a prevention change would refuse.
 */
export async function makePlan(client: ApiClient, policy: Policy, controllerUser: string, inventory: InventoryItem[] | null = null): Promise<Plan> {
  const desired = desiredState(policy);
  const live = await readLiveState(client, policy, inventory ?? []);
  const deletable = policy.settings.prune && inventory ? inventory.filter((item) => PRUNABLE.includes(item.kind) && !desired[item.kind].has(item.key)) : [];
  const managed = inventory ? new Set(inventory.map((item) => `${item.kind}:${item.key}`)) : null;
  const changes = diff(desired, live, deletable, managed);
  const deleting = changes.filter((c) => c.action === "delete").length;
  const managedCount = inventory?.filter((item) => PRUNABLE.includes(item.kind)).length ?? 0;
  if (deleting > 0 && deleting >= managedCount && !policy.settings.allowDeleteAll) {
    throw new PlanRefused(`the plan would delete every object the controller manages (${deleting}); set controller.allowDeleteAll: true in projects.yaml if that is meant`);
  }
  markBlocked(changes, policy, live, controllerUser);
  await blockUnreadableSecrets(changes, policy);
  blockDependents(changes);
  for (const change of changes) {
    const detail = ruleDetails(change, policy);
    if (detail) change.detail = detail;
  }
  const retention = [];
  for (const change of changes.filter((c) => c.kind === "retention" && !c.blocked && live.project.has(c.key))) {
    retention.push({ project: change.key, deletes: await retentionImpact(client, change.key, (change.desired as { rules: RetentionRule[] }).rules) });
  }
  const prevention = [];
  for (const change of changes.filter((c) => c.kind === "project" && c.action !== "create" && !c.blocked)) {
    const declared = policy.projects.find((p) => p.name === change.key);
    const severity = declared?.preventVulnerable;
    if (!declared || !severity || severity === "off" || !change.fields.some((f) => f.field === "preventVulnerable" || f.field === "cveAllowlist")) continue;
    prevention.push(await preventionImpact(client, change.key, declared, severity));
  }
  const removing = new Set(changes.filter((c) => c.kind === "member" && c.action === "delete" && !c.blocked).map((c) => c.key));
  return { changes, access: accessChanges(desired, live, removing), retention, prevention, live };
}
