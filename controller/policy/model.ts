/** The desired state the policy files declare, normalized (defaults filled, sizes in bytes, secrets as references). */

export type RoleName = "projectAdmin" | "maintainer" | "developer" | "guest" | "limitedGuest";

/** Harbor's role ids (HARBOR-MODEL §3.1). */
export const ROLE_IDS: Record<RoleName, number> = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 };

export interface Settings {
  prune: boolean;
  drift: "correct" | "warn" | "off";
  adopt: boolean;
  allowDeleteAll: boolean;
}

export interface DesiredRegistry {
  name: string;
  type: "docker-registry" | "harbor" | "berth";
  url: string;
  description: string;
  insecure: boolean;
  accessKey: string;
  /** `env:NAME` or `file:PATH`; resolved only when applying. */
  secretFrom: string | null;
}

/** A label: global (project null) or one project's. Its key in a plan: `name`, or `project/name`. */
export interface DesiredLabel {
  name: string;
  project: string | null;
  description: string;
  color: string;
}

export function labelKey(label: Pick<DesiredLabel, "name" | "project">): string {
  return label.project === null ? label.name : `${label.project}/${label.name}`;
}

export interface ImmutableRule {
  repositories: string;
  tags: string;
  disabled: boolean;
}

export interface RetentionRule {
  template: string;
  params: Record<string, number>;
  repositories: string;
  tags: string;
  untagged: boolean;
  disabled: boolean;
}

export interface Retention {
  /** Harbor's 6-field cron, or "" for manual runs only. */
  schedule: string;
  rules: RetentionRule[];
}

export interface Replication {
  name: string;
  project: string;
  direction: "push" | "pull";
  registry: string;
  repositories: string;
  tags: string;
  trigger: { type: "manual" | "scheduled" | "event_based"; cron: string };
  destNamespace: string;
  override: boolean;
  deletion: boolean;
  enabled: boolean;
  speed: number;
}

/** Harbor's `severity` words for prevent_vul: a pull of an image with a vulnerability at or above it is refused. */
export const SEVERITY_THRESHOLDS = ["none", "low", "medium", "high", "critical"] as const;
export type SeverityThreshold = (typeof SEVERITY_THRESHOLDS)[number];

/** A project's own CVE allowlist (in place of the system's): findings with these ids never block a pull. */
export interface CveAllowlist {
  /** Sorted: the registry keeps no order. */
  items: string[];
  /** RFC 3339 in UTC to the second (`2027-06-30T00:00:00Z`); null: never expires. */
  expiresAt: string | null;
}

/** A time as the files and plans show allowlist expiries: RFC 3339 in UTC, whole seconds (what the registry keeps). */
export function rfc3339Seconds(unixSeconds: number): string {
  return new Date(Math.floor(unixSeconds) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

export interface DesiredProject {
  name: string;
  public: boolean;
  /** Bytes, -1 unlimited; null = not managed. */
  storageLimit: number | null;
  /** null = not managed (the files do not mention them). */
  immutableTags: ImmutableRule[] | null;
  retention: Retention | null;
  /** Scan on push; null = not managed. */
  autoScan: boolean | null;
  /** prevent_vul: the threshold, "off" (said so in the files), or null = not managed. */
  preventVulnerable: SeverityThreshold | "off" | null;
  /** null = not managed (the registry's setting, system list or the project's own, stays as it is). */
  cveAllowlist: CveAllowlist | null;
}

export interface DesiredUser {
  username: string;
  email: string;
  realname: string;
  admin: boolean;
  passwordFrom: string | null;
}

/** What a project member is: a user by name, an OIDC group by name (Harbor group_type 3), an LDAP group by DN (type 1). */
export type MemberKind = "user" | "group" | "ldapGroup";

/** Harbor's group_type of each kind of group member. */
export const GROUP_TYPES = { ldapGroup: 1, group: 3 } as const;

export interface DesiredMember {
  project: string;
  kind: MemberKind;
  /** The username, the OIDC group's name or the LDAP group's DN. */
  name: string;
  role: RoleName;
}

/**
 * A member's key in plans and the inventory: `dev-team/alice`, `dev-team/group:devs`,
 * `dev-team/ldapGroup:cn=devs,ou=groups,dc=example,dc=org` (the files' own words, so a plan reads like them).
 */
export function memberKey(member: Pick<DesiredMember, "project" | "kind" | "name">): string {
  return `${member.project}/${member.kind === "user" ? "" : `${member.kind}:`}${member.name}`;
}

/** The inverse of memberKey (a project name never holds a slash; a DN may). */
export function parseMemberKey(key: string): Pick<DesiredMember, "project" | "kind" | "name"> {
  const slash = key.indexOf("/");
  const [project, entity] = [key.slice(0, slash), key.slice(slash + 1)];
  for (const kind of ["group", "ldapGroup"] as const) {
    if (entity.startsWith(`${kind}:`)) return { project, kind, name: entity.slice(kind.length + 1) };
  }
  return { project, kind: "user", name: entity };
}

/** How a member reads in a plan's access lines: `alice`, `OIDC group devs`, `LDAP group cn=devs,…`. */
export function memberLabel(member: Pick<DesiredMember, "kind" | "name">): string {
  return member.kind === "user" ? member.name : `${member.kind === "group" ? "OIDC" : "LDAP"} group ${member.name}`;
}

export interface DesiredRobot {
  name: string;
  project: string;
  description: string;
  access: ("pull" | "push" | "delete")[];
  duration: number;
  secretFrom: string | null;
}

/** A secret reference in the files, where it is, and the object that needs it (when that object is created). */
export interface SecretReference {
  kind: "registry" | "user" | "robot";
  /** The object's key in a plan: `alice`, `dev-team+ci`, `dr-site`. */
  key: string;
  /** `env:NAME` or `file:PATH`. */
  reference: string;
  /** Its path in the file, `users.0.passwordFrom`. */
  field: string;
  file: string;
  line: number;
  col: number;
}

/** Harbor's /configurations keys the files manage (absent ones are not), values as the API takes them. */
export type DesiredConfiguration = Record<string, string | number>;

export interface Policy {
  settings: Settings;
  configuration: DesiredConfiguration;
  registries: DesiredRegistry[];
  users: DesiredUser[];
  projects: DesiredProject[];
  /** Global labels, then each project's. */
  labels: DesiredLabel[];
  /** Projects whose member list the files declare (a project absent from `members:` keeps its members). */
  memberProjects: string[];
  members: DesiredMember[];
  robots: DesiredRobot[];
  replications: Replication[];
  secrets: SecretReference[];
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** `10GiB`, `500MB`, `unlimited`, or a byte count → bytes (-1 = unlimited); null when it is not a size. */
export function parseSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= -1 ? value : null;
  if (value === "unlimited") return -1;
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/.exec(value);
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * UNITS[match[2]]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
