/**
 * Harbor's API shapes for rules and policies, both ways: what the controller sends for a desired object, and how a
 * live object reads back into the same comparable fields. Keeping both directions here is what makes "apply, then
 * plan again" come out empty.
 */
import { rfc3339Seconds, type CveAllowlist, type DesiredProject, type ImmutableRule, type Replication, type RetentionRule } from "../policy/model";
import type { Fields } from "./kinds";

interface Selector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}

export interface HarborImmutableRule {
  id?: number;
  disabled: boolean;
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

export interface HarborRetentionRule {
  disabled: boolean;
  template: string;
  params: Record<string, number>;
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

export interface HarborRetentionPolicy {
  id?: number;
  rules: HarborRetentionRule[];
  trigger: { settings: { cron: string } };
}

export interface HarborReplicationPolicy {
  id: number;
  name: string;
  description: string;
  src_registry: { id: number; name: string } | null;
  dest_registry: { id: number; name: string } | null;
  dest_namespace: string;
  dest_namespace_replace_count: number;
  trigger: { type: Replication["trigger"]["type"]; trigger_settings: { cron: string } };
  filters: { type: string; value: string; decoration?: string }[];
  override: boolean;
  deletion: boolean;
  enabled: boolean;
  speed: number;
}

export function immutableRuleBody(rule: ImmutableRule) {
  return {
    disabled: rule.disabled,
    action: "immutable",
    template: "immutable_template",
    tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: rule.tags }],
    scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: rule.repositories }] },
  };
}

export function immutableRuleOf(rule: HarborImmutableRule): ImmutableRule {
  return { repositories: rule.scope_selectors.repository[0]?.pattern ?? "**", tags: rule.tag_selectors[0]?.pattern ?? "", disabled: rule.disabled };
}

export function retentionBody(projectId: number, schedule: string, rules: RetentionRule[]) {
  return {
    algorithm: "or",
    rules: rules.map((rule) => ({
      disabled: rule.disabled,
      action: "retain",
      template: rule.template,
      params: rule.params,
      tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: rule.tags, extras: JSON.stringify({ untagged: rule.untagged }) }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: rule.repositories }] },
    })),
    trigger: { kind: "Schedule", settings: { cron: schedule }, references: {} },
    scope: { level: "project", ref: projectId },
  };
}

export function retentionRuleOf(rule: HarborRetentionRule): RetentionRule {
  const selector = rule.tag_selectors[0];
  let untagged = true;
  try {
    untagged = (JSON.parse(selector?.extras ?? "{}") as { untagged?: boolean }).untagged ?? false;
  } catch {
    // unparseable extras: Harbor's default for matches
  }
  return {
    template: rule.template,
    params: rule.params ?? {},
    repositories: rule.scope_selectors.repository[0]?.pattern ?? "**",
    tags: selector?.pattern ?? "**",
    untagged,
    disabled: rule.disabled,
  };
}

/**
 * A project's replication as Harbor's system-level policy: push-based ones select `project/<repositories>` here;
 * pull-based ones land under the project (namespace = project, nothing of the upstream path dropped).
 */
export function replicationBody(replication: Replication, registryId: number) {
  const push = replication.direction === "push";
  return {
    name: replication.name,
    description: `berth-controller: project ${replication.project}`,
    src_registry: push ? null : { id: registryId },
    dest_registry: push ? { id: registryId } : null,
    dest_namespace: push ? replication.destNamespace : replication.destNamespace ? `${replication.project}/${replication.destNamespace}` : replication.project,
    dest_namespace_replace_count: push && replication.destNamespace === "" ? -1 : push ? 1 : 0,
    trigger: { type: replication.trigger.type, trigger_settings: { cron: replication.trigger.cron } },
    filters: [
      { type: "name", value: push ? `${replication.project}/${replication.repositories}` : replication.repositories },
      { type: "tag", value: replication.tags, decoration: "matches" },
    ],
    override: replication.override,
    deletion: replication.deletion,
    enabled: replication.enabled,
    speed: replication.speed,
  };
}

/** The project-level replication a live policy expresses, or null when it is not one the controller could have made. */
export function replicationOf(policy: HarborReplicationPolicy): Replication | null {
  const push = policy.dest_registry !== null && policy.dest_registry.id !== 0;
  const registry = push ? policy.dest_registry : policy.src_registry;
  const name = policy.filters.find((f) => f.type === "name")?.value ?? "**";
  const tags = policy.filters.find((f) => f.type === "tag")?.value ?? "**";
  const project = push ? name.split("/")[0] : policy.dest_namespace.split("/")[0];
  if (!registry || !project) return null;
  return {
    name: policy.name,
    project,
    direction: push ? "push" : "pull",
    registry: registry.name,
    repositories: push ? name.slice(project.length + 1) || "**" : name,
    tags,
    trigger: { type: policy.trigger.type, cron: policy.trigger.trigger_settings?.cron ?? "" },
    destNamespace: push ? policy.dest_namespace : policy.dest_namespace.slice(project.length + 1),
    override: policy.override,
    deletion: policy.deletion,
    enabled: policy.enabled,
    speed: policy.speed,
  };
}

/** A CVE allowlist as the projects API carries it (`cve_allowlist`). */
export interface HarborCveAllowlist {
  items: { cve_id: string }[];
  /** Unix seconds; null: never expires. */
  expires_at?: number | null;
}

/** How a project's allowlist compares: its own list, and whether the registry applies the system's instead. */
export type AllowlistFields = CveAllowlist & { useSystemAllowlist: boolean };

/** The scanning fields of a project, as desired.ts and live.ts compare them. */
export type ScanningFields = { autoScan: boolean; preventVulnerable: NonNullable<DesiredProject["preventVulnerable"]>; cveAllowlist: AllowlistFields };

const unixSeconds = (time: string) => Math.floor(Date.parse(time) / 1000);

/** The parts of a project update (PUT /projects/{name}, which merges metadata) that set the scanning fields `desired` holds. */
export function scanningBody(desired: Fields): { metadata: Record<string, string>; cve_allowlist?: HarborCveAllowlist } {
  const metadata: Record<string, string> = {};
  if (desired.autoScan !== undefined) metadata.auto_scan = String(desired.autoScan);
  if (desired.preventVulnerable !== undefined) {
    metadata.prevent_vul = String(desired.preventVulnerable !== "off");
    // "off" leaves the threshold as it is: turning prevention back on by hand finds the old one.
    if (desired.preventVulnerable !== "off") metadata.severity = desired.preventVulnerable as string;
  }
  const allowlist = desired.cveAllowlist as AllowlistFields | undefined;
  if (!allowlist) return { metadata };
  metadata.reuse_sys_cve_allowlist = String(allowlist.useSystemAllowlist);
  return {
    metadata,
    cve_allowlist: { items: allowlist.items.map((cve_id) => ({ cve_id })), expires_at: allowlist.expiresAt === null ? null : unixSeconds(allowlist.expiresAt) },
  };
}

/**
 * A live project's scanning fields. Harbor's defaults for absent keys: no scan on push, no prevention, the system
 * allowlist; prevention without a severity blocks on any vulnerability, as `none` does.
 */
export function scanningFieldsOf(metadata: Record<string, string>, allowlist: HarborCveAllowlist | null | undefined): ScanningFields {
  return {
    autoScan: metadata.auto_scan === "true",
    preventVulnerable: metadata.prevent_vul === "true" ? ((metadata.severity || "none") as ScanningFields["preventVulnerable"]) : "off",
    cveAllowlist: {
      useSystemAllowlist: metadata.reuse_sys_cve_allowlist !== "false",
      items: (allowlist?.items ?? []).map((item) => item.cve_id).sort(),
      expiresAt: allowlist?.expires_at == null ? null : rfc3339Seconds(allowlist.expires_at),
    },
  };
}
