import { ApiError, type ApiClient } from "../api-client";
import { normalDn } from "../policy/dn";
import { parseMemberKey, type Policy, type RetentionRule } from "../policy/model";
import { desiredState } from "../state/desired";
import type { Kind, LiveState } from "../state/kinds";
import type { InventoryItem } from "../state/registry-state";
import { readLiveState } from "../state/live";
import { accessChanges, ldapGroupsToExpand, type AccessChange, type GroupMembers } from "./access";
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
    const member = change.kind === "member" ? parseMemberKey(change.key) : null;
    const ownMembership = member?.kind === "user" && member.name === controllerUser;
    if (change.action === "delete" && ((change.kind === "user" && change.key === controllerUser) || ownMembership)) {
      change.blocked = `${controllerUser} is the user the controller applies as: it does not remove its own access`;
    }
    if (member?.kind === "user" && change.action !== "delete" && !users.has(member.name)) {
      change.blocked = `user ${member.name} does not exist (declare it under users: in members.yaml)`;
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
  const memberChanges = changes.filter((c) => c.kind === "member").map((c) => c.key);
  const groups = new Map<string, GroupMembers>();
  for (const dn of ldapGroupsToExpand(desired, live, memberChanges)) groups.set(normalDn(dn), await ldapGroupMembers(client, dn));
  return { changes, access: accessChanges(desired, live, removing, groups), retention, prevention, live };
}

/**
 * An LDAP group's users, asked of the registry's directory (in ldap mode), or why they are not known: a preview
 * never fails a plan, and asks once (a directory that is down is said so, not waited for again).
 */
async function ldapGroupMembers(client: ApiClient, dn: string): Promise<GroupMembers> {
  try {
    const found = await client.withAttempts(1).get<{ members?: { username: string }[]; members_complete?: boolean }[]>(`/ldap/groups/search?groupdn=${encodeURIComponent(dn)}&with_members=true`);
    if (!found || found.length === 0) return { unknown: "the registry's directory has no such group" };
    if (!found[0].members) return { unknown: "the registry does not list a group's members (an older Berth)" };
    return { users: found[0].members.map((m) => m.username).sort(), complete: found[0].members_complete !== false };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const answer = error.message.replace(/^GET \S+ (answered \d+: )?/, "");
    if (error.status === 412) return { unknown: "the registry is not in LDAP mode (BERTH_AUTH_MODE)" };
    if (error.status === 401 || error.status === 403) return { unknown: "only a system admin may search the registry's directory" };
    if (error.status === 503) return { unknown: `the registry's directory did not answer (${answer})` };
    return { unknown: `the registry did not answer (${answer})` };
  }
}
