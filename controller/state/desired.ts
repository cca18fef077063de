import { labelKey, memberKey, type DesiredProject, type ImmutableRule, type Policy, type RetentionRule } from "../policy/model";
import { emptyState, type Fields, type State } from "./kinds";

/** Rules compare as sets: their order in the file does not matter to the registry (OR of rules, any rule protects). */
export function sortedRules<T extends ImmutableRule | RetentionRule>(rules: T[]): T[] {
  return [...rules].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * A project's scanning settings the files manage (an absent one is not compared). A declared allowlist is the
 * project's own: `useSystemAllowlist` false is what makes the registry apply it.
 */
export function vulnerabilityFields(p: Pick<DesiredProject, "autoScan" | "preventVulnerable" | "cveAllowlist">): Fields {
  return {
    ...(p.autoScan === null ? {} : { autoScan: p.autoScan }),
    ...(p.preventVulnerable === null ? {} : { preventVulnerable: p.preventVulnerable }),
    ...(p.cveAllowlist === null ? {} : { cveAllowlist: { useSystemAllowlist: false, items: p.cveAllowlist.items, expiresAt: p.cveAllowlist.expiresAt } }),
  };
}

/** The desired state as comparable fields per object. Secrets are references and never compared (write-only). */
export function desiredState(policy: Policy): State {
  const state = emptyState<Fields>();
  for (const [key, value] of Object.entries(policy.configuration)) state.configuration.set(key, { value });
  for (const r of policy.registries) state.registry.set(r.name, { type: r.type, url: r.url, description: r.description, insecure: r.insecure, accessKey: r.accessKey });
  for (const u of policy.users) state.user.set(u.username, { email: u.email, realname: u.realname, admin: u.admin });
  for (const p of policy.projects) {
    state.project.set(p.name, { public: p.public, ...(p.storageLimit === null ? {} : { storageLimit: p.storageLimit }), ...vulnerabilityFields(p) });
    if (p.immutableTags !== null) state.immutability.set(p.name, { rules: sortedRules(p.immutableTags) });
    if (p.retention !== null) state.retention.set(p.name, { schedule: p.retention.schedule, rules: sortedRules(p.retention.rules) });
  }
  for (const l of policy.labels) state.label.set(labelKey(l), { description: l.description, color: l.color });
  for (const m of policy.members) state.member.set(memberKey(m), { role: m.role });
  for (const r of policy.robots) state.robot.set(`${r.project}+${r.name}`, { description: r.description, access: [...r.access].sort(), duration: r.duration });
  for (const { name, ...replication } of policy.replications) state.replication.set(name, { ...replication });
  return state;
}
