import { normalDn } from "../policy/dn";
import { memberLabel, parseMemberKey, type RoleName } from "../policy/model";
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
  /** A user, a group (`OIDC group devs`, `LDAP group cn=devs,…`), or "anyone" for a project turning public or private. */
  who: string;
  project: string;
  gains: string[];
  loses: string[];
  /** A user whose access changes through groups' memberships: those groups. */
  via?: string[];
  /** About a group's members: how many the directory lists, or why they are not known. */
  note?: string;
}

/** An LDAP group's members as the registry's directory lists them, or why they could not be listed. */
export type GroupMembers = { users: string[]; complete: boolean } | { unknown: string };

function actionsOf(role: unknown): Set<string> {
  return new Set(ROLE_ACTIONS[role as RoleName] ?? []);
}

const union = (sets: Set<string>[]) => new Set(sets.flatMap((set) => [...set]));
const ORDER = ["pull", "push", "delete"];
const sorted = (actions: Iterable<string>) => [...actions].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));

function groupNote(key: string, members: GroupMembers | undefined): string | undefined {
  const member = parseMemberKey(key);
  if (member.kind === "group") return `members of OIDC group ${member.name} are known only when they sign in`;
  if (member.kind !== "ldapGroup") return undefined;
  if (!members) return "its members were not looked up";
  if ("unknown" in members) return `its members could not be listed: ${members.unknown}`;
  const count = `${members.users.length}${members.complete ? "" : "+"} member(s) in the directory`;
  return members.complete ? count : `${count}, only the first ${members.users.length} listed (BERTH_LDAP_SEARCH_MAX)`;
}

/**
 * Who gains or loses pull, push or delete where, if the plan is applied: members added, removed or re-roled, and
 * projects made public (anyone may pull) or private. Only the members the files manage are compared. A group's
 * change is said of the group; an LDAP group whose members `groups` knows (by normalDn) is also expanded into its
 * users, each user's access taken as the registry takes it: the union of their own role and their known groups'.
 */
export function accessChanges(desired: State, live: LiveState, deleting: Set<string> = new Set(), groups: Map<string, GroupMembers> = new Map()): AccessChange[] {
  const roleBefore = (key: string) => live.member.get(key)?.fields.role;
  const roleAfter = (key: string) => (deleting.has(key) ? undefined : desired.member.has(key) ? (desired.member.get(key) as Fields).role : roleBefore(key));
  const changed = [...new Set([...desired.member.keys(), ...[...live.member.keys()].filter((key) => deleting.has(key))])].sort();
  const byProject = new Map<string, AccessChange[]>();
  const add = (change: AccessChange) => byProject.set(change.project, [...(byProject.get(change.project) ?? []), change]);

  const usersOf = (key: string): string[] => {
    const member = parseMemberKey(key);
    const known = member.kind === "ldapGroup" ? groups.get(normalDn(member.name)) : undefined;
    return known && "users" in known ? known.users : [];
  };
  const touchedUsers = new Map<string, Map<string, string[]>>(); // project → user → changed groups via which
  for (const key of changed) {
    const member = parseMemberKey(key);
    const [before, after] = [actionsOf(roleBefore(key)), actionsOf(roleAfter(key))];
    const gains = sorted([...after].filter((a) => !before.has(a)));
    const loses = sorted([...before].filter((a) => !after.has(a)));
    if (gains.length === 0 && loses.length === 0) continue;
    const users = touchedUsers.get(member.project) ?? new Map<string, string[]>();
    touchedUsers.set(member.project, users);
    if (member.kind === "user") {
      users.set(member.name, users.get(member.name) ?? []);
      continue;
    }
    const note = groupNote(key, member.kind === "ldapGroup" ? groups.get(normalDn(member.name)) : undefined);
    add({ who: memberLabel(member), project: member.project, gains, loses, ...(note ? { note } : {}) });
    for (const user of usersOf(key)) users.set(user, [...(users.get(user) ?? []), memberLabel(member)]);
  }

  // Each touched user's access before and after: their own membership and every group of the project they are known to be in.
  for (const [project, users] of touchedUsers) {
    const groupKeys = [...new Set([...desired.member.keys(), ...live.member.keys()])].filter((key) => key.startsWith(`${project}/`) && parseMemberKey(key).kind === "ldapGroup");
    for (const [user, via] of [...users].sort(([a], [b]) => a.localeCompare(b))) {
      const own = `${project}/${user}`;
      const inGroups = groupKeys.filter((key) => usersOf(key).includes(user));
      const before = union([actionsOf(roleBefore(own)), ...inGroups.map((key) => actionsOf(roleBefore(key)))]);
      const after = union([actionsOf(roleAfter(own)), ...inGroups.map((key) => actionsOf(roleAfter(key)))]);
      const gains = sorted([...after].filter((a) => !before.has(a)));
      const loses = sorted([...before].filter((a) => !after.has(a)));
      if (gains.length || loses.length) add({ who: user, project, gains, loses, ...(via.length ? { via } : {}) });
    }
  }

  const changes = [...byProject.keys()].sort().flatMap((project) => byProject.get(project)!);
  for (const [project, fields] of desired.project) {
    const was = live.project.get(project)?.fields.public === true;
    if (fields.public === true && !was) changes.push({ who: "anyone", project, gains: ["pull"], loses: [] });
    if (fields.public === false && was) changes.push({ who: "anyone", project, gains: [], loses: ["pull"] });
  }
  return changes;
}

/** The LDAP groups (by DN) whose members an access preview of these member changes would use. */
export function ldapGroupsToExpand(desired: State, live: LiveState, changedKeys: string[]): string[] {
  const projects = new Set(changedKeys.map((key) => parseMemberKey(key).project));
  const dns = [...desired.member.keys(), ...live.member.keys()]
    .map(parseMemberKey)
    .filter((member) => member.kind === "ldapGroup" && projects.has(member.project))
    .map((member) => member.name);
  const byNormal = new Map(dns.map((dn) => [normalDn(dn), dn]));
  return [...byNormal.values()].sort();
}
