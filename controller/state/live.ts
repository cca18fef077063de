import { ApiError, type ApiClient } from "../api-client";
import { GROUP_TYPES, labelKey, memberKey, ROLE_IDS, type DesiredProject, type Policy, type RoleName } from "../policy/model";
import { normalDn } from "../policy/dn";
import { sortedRules } from "./desired";
import {
  immutableRuleOf,
  replicationOf,
  retentionRuleOf,
  scanningFieldsOf,
  type HarborCveAllowlist,
  type HarborImmutableRule,
  type HarborReplicationPolicy,
  type HarborRetentionPolicy,
} from "./harbor-shapes";
import { emptyState, projectOf, type LiveObject, type LiveState } from "./kinds";
import type { InventoryItem } from "./registry-state";

const ROLE_NAMES = Object.fromEntries(Object.entries(ROLE_IDS).map(([name, id]) => [id, name])) as Record<number, RoleName>;
const ROBOT_PREFIX = "robot$";

interface ApiMember {
  id: number;
  entity_id: number;
  entity_name: string;
  entity_type: string;
  role_id: number;
  /** Berth's listing of all memberships names a group's type and DN; Harbor's per-project listing does not. */
  group_type?: number;
  ldap_group_dn?: string;
}

interface ApiUserGroup {
  id: number;
  group_name: string;
  group_type: number;
  ldap_group_dn: string;
}

/**
 * The member key of a group membership: `project/group:<name>` for an OIDC group, `project/ldapGroup:<dn>` for an
 * LDAP group (spelled as the files spell its DN, when they declare it), null for other groups (HTTP groups are not
 * the files' business). A group's type and DN come from /usergroups/{id} when the listing does not carry them, read
 * once per group.
 */
function groupMemberKeys(client: ApiClient, policy: Policy) {
  const declaredDns = new Map(policy.members.filter((m) => m.kind === "ldapGroup").map((m) => [`${m.project}/${normalDn(m.name)}`, m.name]));
  const groups = new Map<number, Promise<ApiUserGroup | null>>();
  return async (project: string, m: ApiMember): Promise<string | null> => {
    let group: ApiUserGroup | null = m.group_type === undefined ? null : { id: m.entity_id, group_name: m.entity_name, group_type: m.group_type, ldap_group_dn: m.ldap_group_dn ?? "" };
    if (!group) {
      if (!groups.has(m.entity_id)) groups.set(m.entity_id, client.get<ApiUserGroup>(`/usergroups/${m.entity_id}`));
      group = await groups.get(m.entity_id)!;
    }
    if (!group) return null; // deleted since the listing
    if (group.group_type === GROUP_TYPES.group) return memberKey({ project, kind: "group", name: group.group_name });
    if (group.group_type !== GROUP_TYPES.ldapGroup) return null;
    const dn = declaredDns.get(`${project}/${normalDn(group.ldap_group_dn)}`) ?? group.ldap_group_dn;
    return memberKey({ project, kind: "ldapGroup", name: dn });
  };
}

/** Above this many projects with managed members, all memberships are read in one paged listing. */
const BULK_MEMBERS_FROM = 20;

interface ApiProject {
  project_id: number;
  name: string;
  metadata: Record<string, string>;
}

/**
 * The scanning settings a declared project manages, as they are. The allowlist is read from the project itself
 * (one request, only for projects that declare one): a listing need not carry it.
 */
async function scanningFields(client: ApiClient, project: ApiProject, declared: DesiredProject): Promise<Record<string, unknown>> {
  const allowlist =
    declared.cveAllowlist === null ? null : ((await client.get<{ cve_allowlist?: HarborCveAllowlist }>(`/projects/${encodeURIComponent(project.name)}`))?.cve_allowlist ?? null);
  const live = scanningFieldsOf(project.metadata, allowlist);
  return {
    ...(declared.autoScan === null ? {} : { autoScan: live.autoScan }),
    ...(declared.preventVulnerable === null ? {} : { preventVulnerable: live.preventVulnerable }),
    ...(declared.cveAllowlist === null ? {} : { cveAllowlist: live.cveAllowlist }),
  };
}

/**
 * Global labels (all of them: one short listing), and the labels of projects that declare labels or hold managed
 * ones (so that pruning finds those that left the files).
 */
async function readLabels(client: ApiClient, policy: Policy, inventory: InventoryItem[], live: LiveState): Promise<void> {
  const read = async (query: string, project: string | null) => {
    for (const l of await client.list<{ id: number; name: string; description: string; color: string }>(`/labels?${query}`)) {
      live.label.set(labelKey({ name: l.name, project }), { fields: { description: l.description, color: l.color }, ref: { id: l.id } });
    }
  };
  await read("scope=g", null);
  const managed = inventory.filter((item) => item.kind === "label").map((item) => projectOf("label", item.key, undefined));
  const projects = new Set([...policy.labels.map((l) => l.project), ...managed].filter((p): p is string => p !== null));
  await each([...projects], async (name) => {
    const id = live.project.get(name)?.ref.id;
    if (id !== undefined) await read(`scope=p&project_id=${id}`, name);
  });
}

/** A read started before it is awaited: its failure waits for the await (it is not an unhandled rejection meanwhile). */
function started<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

/** Runs `work` for every item at once; the client bounds how many requests are in flight. */
const each = <T>(items: T[], work: (item: T) => Promise<void>) => Promise.all(items.map(work));

/** Pages of /controller/members (Berth takes up to 10 000): 10 000 memberships in one or two requests. */
const BULK_MEMBERS_PAGE = 10_000;

/** Every membership of every project; a Berth that takes only Harbor's pages of 100 (422) is read in those. */
async function allMemberships(client: ApiClient): Promise<(ApiMember & { project: string })[]> {
  try {
    return await client.list<ApiMember & { project: string }>("/controller/members", BULK_MEMBERS_PAGE);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    return client.list<ApiMember & { project: string }>("/controller/members");
  }
}

/**
 * Reads back from the registry what the policy declares (and nothing else: the controller never lists "everything"
 * to decide what to change). A read that fails fails the whole plan: an unknown state is never taken for "absent".
 */
export async function readLiveState(client: ApiClient, policy: Policy, inventory: InventoryItem[] = []): Promise<LiveState> {
  const live = emptyState<LiveObject>();
  // The listings that depend on nothing read here start at once and are awaited where they are used.
  const memberProjects = new Set([...policy.memberProjects, ...inventory.filter((item) => item.kind === "member").map((item) => item.key.split("/")[0])]);
  const allMembersRead = memberProjects.size > BULK_MEMBERS_FROM ? started(allMemberships(client)) : null;
  const replicationsRead = started(client.list<HarborReplicationPolicy>("/replication/policies"));

  // Only the declared keys: the registry's other settings are not the files' business.
  if (Object.keys(policy.configuration).length > 0) {
    const configuration = (await client.get<Record<string, { value: unknown; editable: boolean }>>("/configurations")) ?? {};
    for (const key of Object.keys(policy.configuration)) {
      const current = configuration[key];
      if (current) live.configuration.set(key, { fields: { value: current.value }, ref: { editable: current.editable } });
    }
  }

  const registries = await client.list<{ id: number; name: string; type: string; url: string; description: string; insecure: boolean; credential: { access_key: string } }>("/registries");
  for (const r of registries) {
    live.registry.set(r.name, { fields: { type: r.type, url: r.url, description: r.description, insecure: r.insecure, accessKey: r.credential.access_key }, ref: { id: r.id } });
  }

  const users = await client.list<{ user_id: number; username: string; email: string; realname: string; sysadmin_flag: boolean }>("/users");
  for (const u of users) live.user.set(u.username, { fields: { email: u.email, realname: u.realname, admin: u.sysadmin_flag }, ref: { id: u.user_id } });

  // Declared projects, and managed ones that left the files (so that pruning can find them). One listing of all
  // projects (and of all quotas, when limits are declared) costs a few pages instead of a request per project.
  const managedProjects = inventory.map((item) => projectOf(item.kind, item.key, undefined)).filter((p): p is string => p !== null);
  const wanted = new Set([...policy.projects.map((p) => p.name), ...managedProjects]);
  const projects = (await client.list<ApiProject>("/projects")).filter((project) => wanted.has(project.name));
  const quotas = policy.projects.some((p) => p.storageLimit !== null)
    ? new Map((await client.list<{ id: number; ref: { id: number }; hard: { storage: number } }>("/quotas")).map((q) => [q.ref.id, q]))
    : new Map<number, { id: number; hard: { storage: number } }>();
  const robotProjects = new Set([...policy.robots.map((r) => r.project), ...inventory.filter((item) => item.kind === "robot").map((item) => item.key.split("+")[0])]);
  const declaredProjects = new Map(policy.projects.map((p) => [p.name, p]));
  await each(projects, async (project) => {
    const name = project.name;
    const declared = declaredProjects.get(name);
    const fields: Record<string, unknown> = { public: project.metadata.public === "true" };
    const ref: Record<string, unknown> = { id: project.project_id, retentionId: Number(project.metadata.retention_id ?? 0) || null };
    const quota = quotas.get(project.project_id);
    if (declared && declared.storageLimit !== null && quota) {
      fields.storageLimit = quota.hard.storage;
      ref.quotaId = quota.id;
    }
    if (declared) Object.assign(fields, await scanningFields(client, project, declared));
    live.project.set(name, { fields, ref });

    if (declared && declared.immutableTags !== null) {
      const rules = await client.list<HarborImmutableRule>(`/projects/${encodeURIComponent(name)}/immutabletagrules`);
      live.immutability.set(name, { fields: { rules: sortedRules(rules.map(immutableRuleOf)) }, ref: { projectId: project.project_id, rules } });
    }
    if (declared && declared.retention !== null && ref.retentionId) {
      const retention = await client.get<HarborRetentionPolicy>(`/retentions/${ref.retentionId}`);
      if (retention) {
        live.retention.set(name, {
          fields: { schedule: retention.trigger.settings.cron ?? "", rules: sortedRules(retention.rules.map(retentionRuleOf)) },
          ref: { id: ref.retentionId, projectId: project.project_id },
        });
      }
    }
    if (!robotProjects.has(name)) return;
    const robots = await client.list<{ id: number; name: string; description: string; duration: number; permissions: { access: { resource: string; action: string }[] }[] }>(
      `/robots?q=${encodeURIComponent(`Level=project,ProjectID=${project.project_id}`)}`,
    );
    for (const robot of robots) {
      const access = robot.permissions.flatMap((p) => p.access.filter((a) => a.resource === "repository").map((a) => a.action)).sort();
      live.robot.set(robot.name.slice(ROBOT_PREFIX.length), { fields: { description: robot.description, access, duration: robot.duration }, ref: { id: robot.id, name: robot.name } });
    }
  });

  await readLabels(client, policy, inventory, live);

  const groupKey = groupMemberKeys(client, policy);
  const addMember = async (project: string, m: ApiMember) => {
    if (!memberProjects.has(project) || !live.project.has(project)) return;
    const key = m.entity_type === "u" ? memberKey({ project, kind: "user", name: m.entity_name }) : m.entity_type === "g" ? await groupKey(project, m) : null;
    if (key !== null) live.member.set(key, { fields: { role: ROLE_NAMES[m.role_id] ?? `role ${m.role_id}` }, ref: { id: m.id, project } });
  };
  if (allMembersRead) {
    // Many projects: Berth's listing of all memberships at once beats a request per project.
    await each(await allMembersRead, (m) => addMember(m.project, m));
  } else {
    await each([...memberProjects].filter((name) => live.project.has(name)), async (project) => {
      const members = await client.list<ApiMember>(`/projects/${encodeURIComponent(project)}/members`);
      await each(members, (m) => addMember(project, m));
    });
  }

  for (const policyRow of await replicationsRead) {
    const replication = replicationOf(policyRow);
    if (!replication) continue;
    const { name, ...fields } = replication;
    live.replication.set(name, { fields, ref: { id: policyRow.id } });
  }
  return live;
}
