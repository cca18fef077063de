import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "node:tls";
import { Client, InvalidCredentialsError, NoSuchObjectError, type Entry } from "ldapts";
import type { LdapConfig } from "./config";

/** A person found in the directory. */
export interface LdapUser {
  dn: string;
  username: string;
  email: string | null;
  realname: string;
  /** DNs of the groups the user belongs to, as the directory spells them. */
  groupDns: string[];
}

export interface LdapGroup {
  dn: string;
  name: string;
}

/** The directory could not be reached or refused the search account: nothing is known about the user. */
export class LdapUnavailableError extends Error {}

/** What the Authenticator and the /ldap routes need of a directory (tests substitute their own). */
export interface UserDirectory {
  authenticate(username: string, password: string): Promise<LdapUser | null>;
  isAdmin(user: LdapUser): boolean;
}

// RFC 4515: a value inside a filter escapes these, so a username cannot widen the search ("*", ")(uid=*").
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

const normalDn = (dn: string) => dn.replace(/\s*,\s*/g, ",").toLowerCase();

/** DN equality as directories mean it for our purposes: attribute names and values case-insensitive, spaces after commas ignored. */
export const sameDn = (a: string, b: string): boolean => normalDn(a) === normalDn(b);

/** Whether `dn` is `base` or an entry below it. */
const isUnder = (dn: string, base: string): boolean => sameDn(dn, base) || normalDn(dn).endsWith(`,${normalDn(base)}`);

function first(entry: Entry, attribute: string): string | null {
  const value = entry[attribute];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined ? null : text.toString();
}

function all(entry: Entry, attribute: string): string[] {
  const value = entry[attribute];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => v.toString());
}

/**
 * The LDAP directory of BERTH_LDAP_*: finds a user as the search account, then proves the password by binding as
 * the user's DN; reads their groups from the group attribute (memberOf) or by a group search. One connection per
 * operation: sign-ins are rare (the Authenticator caches them) and a pooled connection would carry a user's bind.
 */
export class LdapDirectory implements UserDirectory {
  private ca: Promise<Buffer | undefined> | undefined;

  constructor(private readonly config: LdapConfig) {}

  /** The most entries a search answers with (BERTH_LDAP_SEARCH_MAX). */
  get searchMax(): number {
    return this.config.searchMax;
  }

  /** The user when the password is theirs; null for an unknown user or a wrong password. */
  async authenticate(username: string, password: string): Promise<LdapUser | null> {
    // An empty password makes a simple bind "unauthenticated", which servers accept for any DN (RFC 4513 §5.1.2).
    if (password === "" || username === "") return null;
    const user = await this.findUser(username);
    if (!user) return null;
    const client = await this.connect();
    try {
      await client.bind(user.dn, password);
      return user;
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return null;
      throw new LdapUnavailableError(`LDAP bind failed: ${(error as Error).message}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  isAdmin(user: LdapUser): boolean {
    const adminDn = this.config.groupAdminDn;
    return adminDn !== undefined && user.groupDns.some((dn) => sameDn(dn, adminDn));
  }

  /** Connects and binds as the search account: what /ldap/ping reports on. */
  async ping(): Promise<void> {
    await this.asSearcher(async () => undefined);
  }

  /** One user by exact username, with their groups. */
  async findUser(username: string): Promise<LdapUser | null> {
    const [user, ...others] = await this.searchUsers(username, { exact: true, limit: 2 });
    // Two entries answering one name: binding as either would be a guess.
    return user && others.length === 0 ? user : null;
  }

  /** Users whose username contains `text` (or all, when empty), up to `limit`. */
  async searchUsers(text: string, options: { exact?: boolean; limit: number }): Promise<LdapUser[]> {
    const uid = this.config.uidAttribute;
    const match = text === "" ? `(${uid}=*)` : options.exact ? `(${uid}=${escapeFilterValue(text)})` : `(${uid}=*${escapeFilterValue(text)}*)`;
    return this.asSearcher((client) => this.usersMatching(client, this.config.baseDn, this.config.scope, match, options.limit));
  }

  /**
   * The users of the group with DN `dn`, as a sign-in would find them in it: those whose group attribute (memberOf)
   * names it, or, without one, those its member, uniqueMember and memberUid values name. At most `limit`; `complete`
   * is false when there were more.
   */
  async groupMembers(dn: string, limit: number): Promise<{ users: LdapUser[]; complete: boolean }> {
    return this.asSearcher(async (client) => {
      let users: LdapUser[] = [];
      if (this.config.groupAttribute) {
        users = await this.usersMatching(client, this.config.baseDn, this.config.scope, `(${this.config.groupAttribute}=${escapeFilterValue(dn)})`, limit + 1);
      } else {
        const group = await client.search(dn, { scope: "base", filter: this.config.groupFilter, attributes: ["member", "uniqueMember", "memberUid"] }).catch((error: unknown) => {
          if (error instanceof NoSuchObjectError) return { searchEntries: [] };
          throw error;
        });
        const entry = group.searchEntries[0];
        if (!entry) return { users: [], complete: true };
        const uids = all(entry, "memberUid");
        if (uids.length > 0) {
          const match = `(|${uids.map((uid) => `(${this.config.uidAttribute}=${escapeFilterValue(uid)})`).join("")})`;
          users.push(...(await this.usersMatching(client, this.config.baseDn, this.config.scope, match, limit + 1)));
        }
        for (const memberDn of [...all(entry, "member"), ...all(entry, "uniqueMember")]) {
          if (users.length > limit) break;
          if (!isUnder(memberDn, this.config.baseDn) || users.some((user) => sameDn(user.dn, memberDn))) continue;
          // A member that is not a user (a nested group, an entry since deleted) is no one who signs in.
          users.push(...(await this.usersMatching(client, memberDn, "base", `(${this.config.uidAttribute}=*)`, 1).catch(() => [])));
        }
      }
      users.sort((a, b) => a.username.localeCompare(b.username));
      return { users: users.slice(0, limit), complete: users.length <= limit };
    });
  }

  /** Up to `limit` users under `base` matching `match` (and BERTH_LDAP_FILTER), with their groups. */
  private async usersMatching(client: Client, base: string, scope: LdapConfig["scope"], match: string, limit: number): Promise<LdapUser[]> {
    const uid = this.config.uidAttribute;
    const filter = this.config.filter ? `(&${this.config.filter}${match})` : match;
    const groupAttribute = this.config.groupAttribute;
    const { searchEntries } = await client.search(base, {
      scope,
      filter,
      attributes: [uid, "mail", "cn", "displayName", ...(groupAttribute ? [groupAttribute] : [])],
    });
    const users: LdapUser[] = [];
    // No sizeLimit on the request: a server hitting it answers with an error and drops the entries it found.
    for (const entry of searchEntries.slice(0, limit)) {
      const username = first(entry, uid);
      if (username === null) continue;
      users.push({
        dn: entry.dn,
        username,
        email: first(entry, "mail"),
        realname: first(entry, "displayName") ?? first(entry, "cn") ?? username,
        groupDns: groupAttribute ? all(entry, groupAttribute) : await this.groupsOf(client, entry.dn, username),
      });
    }
    return users;
  }

  /** Groups under BERTH_LDAP_GROUP_BASE_DN whose cn contains `name`, or the one group with DN `dn`. */
  async searchGroups(query: { name?: string; dn?: string }, limit = 100): Promise<LdapGroup[]> {
    const base = query.dn ?? this.config.groupBaseDn;
    if (!base) return [];
    const match = query.name ? `(cn=*${escapeFilterValue(query.name)}*)` : "";
    return this.asSearcher(async (client) => {
      const found = await client
        .search(base, {
          scope: query.dn ? "base" : "sub",
          filter: match ? `(&${this.config.groupFilter}${match})` : this.config.groupFilter,
          attributes: ["cn"],
        })
        .catch((error: unknown) => {
          // A DN that names nothing is an empty answer, not a broken directory.
          if (query.dn && error instanceof NoSuchObjectError) return { searchEntries: [] };
          throw error;
        });
      return found.searchEntries.slice(0, limit).map((entry) => ({ dn: entry.dn, name: first(entry, "cn") ?? entry.dn }));
    });
  }

  private async groupsOf(client: Client, dn: string, username: string): Promise<string[]> {
    if (!this.config.groupBaseDn) return [];
    const member = `(|(member=${escapeFilterValue(dn)})(uniqueMember=${escapeFilterValue(dn)})(memberUid=${escapeFilterValue(username)}))`;
    const { searchEntries } = await client.search(this.config.groupBaseDn, {
      scope: "sub",
      filter: `(&${this.config.groupFilter}${member})`,
      attributes: ["cn"],
    });
    return searchEntries.map((entry) => entry.dn);
  }

  private async asSearcher<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      if (this.config.searchDn) await client.bind(this.config.searchDn, this.config.searchPassword ?? "");
      return await work(client);
    } catch (error) {
      if (error instanceof LdapUnavailableError) throw error;
      throw new LdapUnavailableError(`LDAP search failed: ${(error as Error).message}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      url: this.config.url,
      timeout: this.config.timeoutMs,
      connectTimeout: this.config.timeoutMs,
      // ldapts opens TLS at once whenever tlsOptions are given: only for ldaps://, StartTLS gets them below.
      ...(this.config.url.startsWith("ldaps:") ? { tlsOptions: await this.tlsOptions() } : {}),
    });
    if (this.config.startTls) {
      try {
        await client.startTLS(await this.tlsOptions());
      } catch (error) {
        await client.unbind().catch(() => undefined);
        throw new LdapUnavailableError(`LDAP StartTLS failed: ${(error as Error).message}`);
      }
    }
    return client;
  }

  private async tlsOptions(): Promise<ConnectionOptions> {
    this.ca ??= this.config.caFile ? readFile(this.config.caFile) : Promise.resolve(undefined);
    const ca = await this.ca;
    return ca ? { ca: [ca] } : {};
  }
}
