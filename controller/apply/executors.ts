import { ApiError, type ApiClient } from "../api-client";
import { GROUP_TYPES, parseMemberKey, ROLE_IDS, type ImmutableRule, type Policy, type Replication, type RetentionRule, type RoleName } from "../policy/model";
import type { Change } from "../plan/diff";
import { resolveSecret } from "../policy/secrets";
import { immutableRuleBody, immutableRuleOf, replicationBody, retentionBody, scanningBody, type HarborImmutableRule } from "../state/harbor-shapes";
import type { Fields, Kind, LiveState } from "../state/kinds";

/** Ids learned while applying (objects created earlier in the same run) on top of what was read. */
export class IdBook {
  private readonly ids = new Map<string, number>();

  constructor(private readonly live: LiveState) {}

  set(kind: Kind, key: string, id: number): void {
    this.ids.set(`${kind}:${key}`, id);
  }

  get(kind: Kind, key: string): number {
    const id = this.ids.get(`${kind}:${key}`) ?? (this.live[kind].get(key)?.ref.id as number | undefined);
    if (id === undefined) throw new Error(`${kind} ${key} does not exist in the registry`);
    return id;
  }
}

export interface ApplyContext {
  client: ApiClient;
  policy: Policy;
  live: LiveState;
  ids: IdBook;
  /** Notes for the report (a robot secret that was generated, say), never secrets themselves. */
  note(message: string): void;
}

const path = (name: string) => encodeURIComponent(name);

async function applyRegistry(change: Change, ctx: ApplyContext): Promise<void> {
  const declared = ctx.policy.registries.find((r) => r.name === change.key)!;
  if (change.action === "create") {
    const secret = declared.secretFrom ? await resolveSecret(declared.secretFrom) : "";
    const { id } = await ctx.client.post("/registries", {
      name: declared.name,
      type: declared.type,
      url: declared.url,
      description: declared.description,
      insecure: declared.insecure,
      credential: { type: "basic", access_key: declared.accessKey, access_secret: secret },
    });
    if (id !== null) ctx.ids.set("registry", change.key, id);
    return;
  }
  await ctx.client.put(`/registries/${ctx.ids.get("registry", change.key)}`, {
    name: declared.name,
    type: declared.type,
    url: declared.url,
    description: declared.description,
    insecure: declared.insecure,
    access_key: declared.accessKey,
  });
}

async function applyUser(change: Change, ctx: ApplyContext): Promise<void> {
  const declared = ctx.policy.users.find((u) => u.username === change.key)!;
  let id: number;
  if (change.action === "create") {
    if (!declared.passwordFrom) throw new Error(`a new user needs passwordFrom (env:NAME or file:PATH) for the initial password`);
    const password = await resolveSecret(declared.passwordFrom);
    const created = await ctx.client.post("/users", { username: declared.username, email: declared.email, realname: declared.realname, password });
    id = created.id!;
    ctx.ids.set("user", change.key, id);
  } else {
    id = ctx.ids.get("user", change.key);
    if (change.fields.some((f) => f.field === "email" || f.field === "realname")) {
      await ctx.client.put(`/users/${id}`, { email: declared.email, realname: declared.realname });
    }
  }
  if (change.fields.some((f) => f.field === "admin") && (change.action === "update" || declared.admin)) {
    await ctx.client.put(`/users/${id}/sysadmin`, { sysadmin_flag: declared.admin });
  }
}

/** Project fields that one PUT /projects/{name} sets (its metadata merges, so only the changed keys are sent). */
const PROJECT_BODY_FIELDS = new Set(["public", "autoScan", "preventVulnerable", "cveAllowlist"]);

async function applyProject(change: Change, ctx: ApplyContext): Promise<void> {
  const desired = change.desired as Fields;
  if (change.action === "create") {
    const { metadata, cve_allowlist } = scanningBody(desired);
    const { id } = await ctx.client.post("/projects", {
      project_name: change.key,
      metadata: { public: String(desired.public), ...metadata },
      ...(desired.storageLimit !== undefined ? { storage_limit: desired.storageLimit } : {}),
    });
    if (id !== null) ctx.ids.set("project", change.key, id);
    // Harbor's create takes no allowlist; the project's own is set on it afterwards.
    if (cve_allowlist) await ctx.client.put(`/projects/${path(change.key)}`, { cve_allowlist });
    return;
  }
  const bodyFields = change.fields.map((f) => f.field).filter((field) => PROJECT_BODY_FIELDS.has(field));
  if (bodyFields.length > 0) {
    const { metadata, cve_allowlist } = scanningBody(Object.fromEntries(bodyFields.map((field) => [field, desired[field]])));
    if (bodyFields.includes("public")) metadata.public = String(desired.public);
    await ctx.client.put(`/projects/${path(change.key)}`, { metadata, ...(cve_allowlist ? { cve_allowlist } : {}) });
  }
  if (change.fields.some((f) => f.field === "storageLimit")) {
    const quotaId = ctx.live.project.get(change.key)?.ref.quotaId;
    if (quotaId === undefined) throw new Error(`project ${change.key} has no quota to update`);
    await ctx.client.put(`/quotas/${quotaId}`, { hard: { storage: desired.storageLimit } });
  }
}

async function applyLabel(change: Change, ctx: ApplyContext): Promise<void> {
  const desired = change.desired as Fields;
  const [project, name] = change.key.includes("/") ? change.key.split("/") : [null, change.key];
  if (change.action === "create") {
    const scope = project === null ? { scope: "g" } : { scope: "p", project_id: ctx.ids.get("project", project) };
    const { id } = await ctx.client.post("/labels", { name, description: desired.description, color: desired.color, ...scope });
    if (id !== null) ctx.ids.set("label", change.key, id);
  } else {
    await ctx.client.put(`/labels/${ctx.ids.get("label", change.key)}`, { description: desired.description, color: desired.color });
  }
}

/** A ProjectMember body's member: `member_user`, or `member_group` (Harbor's group_type 3 by name, 1 by DN). */
function memberBody(member: ReturnType<typeof parseMemberKey>) {
  if (member.kind === "user") return { member_user: { username: member.name } };
  return { member_group: member.kind === "group" ? { group_type: GROUP_TYPES.group, group_name: member.name } : { group_type: GROUP_TYPES.ldapGroup, ldap_group_dn: member.name } };
}

/** The membership `member` has in `project` (after a 409: one the read did not see). */
async function existingMembership(ctx: ApplyContext, project: string, member: ReturnType<typeof parseMemberKey>) {
  if (member.kind === "user") {
    const members = await ctx.client.list<{ id: number; entity_name: string; entity_type: string; role_id: number }>(`/projects/${path(project)}/members?entityname=${path(member.name)}`);
    return members.find((m) => m.entity_type === "u" && m.entity_name === member.name);
  }
  const query = member.kind === "group" ? `group_type=${GROUP_TYPES.group}&group_name=${path(member.name)}` : `group_type=${GROUP_TYPES.ldapGroup}&ldap_group_dn=${path(member.name)}`;
  const groups = await ctx.client.list<{ id: number; group_name: string }>(`/usergroups?${query}`);
  const group = groups.find((g) => member.kind === "ldapGroup" || g.group_name === member.name);
  if (!group) return undefined;
  const members = await ctx.client.list<{ id: number; entity_id: number; entity_type: string; role_id: number }>(`/projects/${path(project)}/members`);
  return members.find((m) => m.entity_type === "g" && m.entity_id === group.id);
}

async function applyMember(change: Change, ctx: ApplyContext): Promise<void> {
  const member = parseMemberKey(change.key);
  const project = member.project;
  const roleId = ROLE_IDS[(change.desired as Fields)?.role as RoleName];
  if (change.action === "create") {
    try {
      // A group is named by type and name (or DN): the registry makes the user group on first use, as Harbor does.
      await ctx.client.post(`/projects/${path(project)}/members`, { role_id: roleId, ...memberBody(member) });
    } catch (error) {
      // A project's creator becomes its admin member: created earlier in this run, it has the member already.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
      const existing = await existingMembership(ctx, project, member);
      if (existing && existing.role_id !== roleId) await ctx.client.put(`/projects/${path(project)}/members/${existing.id}`, { role_id: roleId });
    }
  } else {
    await ctx.client.put(`/projects/${path(project)}/members/${ctx.live.member.get(change.key)!.ref.id}`, { role_id: roleId });
  }
}

async function applyRobot(change: Change, ctx: ApplyContext): Promise<void> {
  const [project, name] = change.key.split("+");
  const declared = ctx.policy.robots.find((r) => r.project === project && r.name === name)!;
  const body = {
    name,
    level: "project",
    description: declared.description,
    duration: declared.duration,
    permissions: [{ kind: "project", namespace: project, access: declared.access.map((action) => ({ resource: "repository", action })) }],
  };
  let id: number;
  if (change.action === "create") {
    // Read first: a robot created with a generated secret because its own could not be read would be half-made.
    const secret = declared.secretFrom ? await resolveSecret(declared.secretFrom) : null;
    const created = await ctx.client.post<{ id: number }>("/robots", body);
    id = created.body!.id;
    ctx.ids.set("robot", change.key, id);
    if (secret !== null) await ctx.client.patch(`/robots/${id}`, { secret });
    else ctx.note(`robot ${change.key}: a secret was generated and not kept; set secretFrom to choose it, or refresh it with PATCH /api/v2.0/robots/${id}`);
  } else {
    id = ctx.ids.get("robot", change.key);
    await ctx.client.put(`/robots/${id}`, { ...body, name: ctx.live.robot.get(change.key)!.ref.name });
  }
}

async function applyImmutability(change: Change, ctx: ApplyContext): Promise<void> {
  const wanted = ((change.desired as Fields).rules as ImmutableRule[]).map((rule) => JSON.stringify(rule));
  const current = (ctx.live.immutability.get(change.key)?.ref.rules ?? []) as HarborImmutableRule[];
  const kept = new Set<string>();
  for (const rule of current) {
    const normalized = JSON.stringify(immutableRuleOf(rule));
    if (wanted.includes(normalized) && !kept.has(normalized)) kept.add(normalized);
    else await ctx.client.delete(`/projects/${path(change.key)}/immutabletagrules/${rule.id}`);
  }
  for (const rule of (change.desired as Fields).rules as ImmutableRule[]) {
    if (!kept.has(JSON.stringify(rule))) await ctx.client.post(`/projects/${path(change.key)}/immutabletagrules`, immutableRuleBody(rule));
  }
}

async function applyRetention(change: Change, ctx: ApplyContext): Promise<void> {
  const desired = change.desired as { schedule: string; rules: RetentionRule[] };
  const body = retentionBody(ctx.ids.get("project", change.key), desired.schedule, desired.rules);
  const existing = ctx.live.project.get(change.key)?.ref.retentionId as number | null | undefined;
  // Harbor keeps one policy per project: one that exists (made by hand, say) is updated rather than posted again.
  if (existing) await ctx.client.put(`/retentions/${existing}`, body);
  else await ctx.client.post("/retentions", body);
}

async function applyReplication(change: Change, ctx: ApplyContext): Promise<void> {
  const replication = { name: change.key, ...(change.desired as Omit<Replication, "name">) } as Replication;
  const body = replicationBody(replication, ctx.ids.get("registry", replication.registry));
  if (change.action === "create") await ctx.client.post("/replication/policies", body);
  else await ctx.client.put(`/replication/policies/${ctx.ids.get("replication", change.key)}`, body);
}

async function applyConfiguration(change: Change, ctx: ApplyContext): Promise<void> {
  await ctx.client.put("/configurations", { [change.key]: (change.desired as Fields).value });
}

const EXECUTORS: Record<Kind, (change: Change, ctx: ApplyContext) => Promise<void>> = {
  configuration: applyConfiguration,
  registry: applyRegistry,
  user: applyUser,
  project: applyProject,
  label: applyLabel,
  member: applyMember,
  robot: applyRobot,
  immutability: applyImmutability,
  retention: applyRetention,
  replication: applyReplication,
};

/** Where each prunable kind is deleted. */
function deletePath(change: Change, ctx: ApplyContext): string {
  const ref = ctx.live[change.kind].get(change.key)!.ref;
  switch (change.kind) {
    case "registry":
      return `/registries/${ref.id}`;
    case "user":
      return `/users/${ref.id}`;
    case "project":
      return `/projects/${path(change.key)}`;
    case "label":
      return `/labels/${ref.id}`;
    case "member":
      return `/projects/${path(parseMemberKey(change.key).project)}/members/${ref.id}`;
    case "robot":
      return `/robots/${ref.id}`;
    case "replication":
      return `/replication/policies/${ref.id}`;
    default:
      throw new Error(`a ${change.kind} is not deleted by the controller`);
  }
}

/** Makes one planned change through the registry's API. */
export async function execute(change: Change, ctx: ApplyContext): Promise<void> {
  if (change.action === "delete") return ctx.client.delete(deletePath(change, ctx));
  // Adopting an object that already matches the files is only bookkeeping (the inventory records it).
  if (change.action === "adopt" && change.fields.length === 0) return;
  return EXECUTORS[change.kind]({ ...change, action: change.action === "adopt" ? "update" : change.action }, ctx);
}
