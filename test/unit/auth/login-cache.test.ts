import { Authenticator } from "../../../registry/auth/authenticate";
import { LoginThrottle } from "../../../registry/auth/login-throttle";
import { hashPassword } from "../../../registry/auth/password";
import type { Queryable } from "../../../registry/db/sql";
import type { LdapUser, UserDirectory } from "../../../registry/identity/ldap/directory";
import type { OidcCliSecrets } from "../../../registry/identity/oidc/cli-secret";
import { RobotStore } from "../../../registry/robots/store";

/**
 * The login cache's settings (BERTH_LOGIN_CACHE_SECONDS, BERTH_LOGIN_CACHE_MAX): how often the directory (or the
 * password hash, or the OIDC session) is asked again, counted by fakes of each.
 */
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const DEVS = "cn=devs,ou=groups,dc=berth,dc=test";

/** The user rows directory users already have (onboarding finds them and creates none). */
const onboardedRows: Queryable = {
  async query<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    if (!/SELECT id, username, sysadmin FROM users WHERE username/.test(text)) throw new Error(`unexpected query: ${text}`);
    const username = String(params?.[0]);
    return [{ id: username === "bob" ? 2 : 3, username, sysadmin: false }] as R[];
  },
};

/** A directory whose people all have the password "pw", counting the checks; `groups` is what it answers now. */
function fakeDirectory(): UserDirectory & { checks: number; groups: string[] } {
  const directory = {
    checks: 0,
    groups: [DEVS],
    async authenticate(username: string, password: string): Promise<LdapUser | null> {
      directory.checks += 1;
      if (password !== "pw") return null;
      return { dn: `uid=${username},ou=people,dc=berth,dc=test`, username, email: null, realname: username, groupDns: [...directory.groups] };
    },
    isAdmin: () => false,
  };
  return directory;
}

const ldapAuthenticator = (directory: UserDirectory, cache: { ttlSeconds: number; max: number }) =>
  new Authenticator(onboardedRows, new RobotStore(onboardedRows), new LoginThrottle(), directory, undefined, cache);

/** Moves Date.now (what the cache's expiry reads) forward by `ms` from here on. */
function advanceClock(ms: number): void {
  const now = Date.now();
  jest.spyOn(Date, "now").mockReturnValue(now + ms);
}

afterEach(() => jest.restoreAllMocks());

describe("the login cache", () => {
  it("remembers a login for BERTH_LOGIN_CACHE_SECONDS: the same header is checked once within it, again after it", async () => {
    const directory = fakeDirectory();
    const auth = ldapAuthenticator(directory, { ttlSeconds: 30, max: 1000 });
    await auth.authenticate(basic("bob", "pw"));
    await auth.authenticate(basic("bob", "pw"));
    expect(directory.checks).toBe(1);
    advanceClock(29_000);
    await auth.authenticate(basic("bob", "pw"));
    expect(directory.checks).toBe(1);
    advanceClock(31_000);
    await auth.authenticate(basic("bob", "pw"));
    expect(directory.checks).toBe(2);
  });

  it("with 0 remembers nothing: every login is checked, so a removal from a group counts at the next request", async () => {
    const directory = fakeDirectory();
    const auth = ldapAuthenticator(directory, { ttlSeconds: 0, max: 1000 });
    expect(await auth.authenticate(basic("bob", "pw"))).toMatchObject({ username: "bob", groups: [{ type: 1, name: DEVS }] });
    directory.groups = [];
    expect(await auth.authenticate(basic("bob", "pw"))).toMatchObject({ username: "bob", groups: [] });
    expect(directory.checks).toBe(2);
  });

  it("keeps a remembered login's groups until it expires, then reads the directory's", async () => {
    const directory = fakeDirectory();
    const auth = ldapAuthenticator(directory, { ttlSeconds: 1, max: 1000 });
    await auth.authenticate(basic("bob", "pw"));
    directory.groups = [];
    expect(await auth.authenticate(basic("bob", "pw"))).toMatchObject({ groups: [{ type: 1, name: DEVS }] });
    advanceClock(1_001);
    expect(await auth.authenticate(basic("bob", "pw"))).toMatchObject({ groups: [] });
    expect(directory.checks).toBe(2);
  });

  it("holds at most BERTH_LOGIN_CACHE_MAX logins, dropping the oldest for a new one", async () => {
    const directory = fakeDirectory();
    const auth = ldapAuthenticator(directory, { ttlSeconds: 30, max: 1 });
    await auth.authenticate(basic("bob", "pw"));
    await auth.authenticate(basic("carol", "pw"));
    expect(directory.checks).toBe(2);
    await auth.authenticate(basic("carol", "pw"));
    expect(directory.checks).toBe(2);
    await auth.authenticate(basic("bob", "pw"));
    expect(directory.checks).toBe(3);
  });

  it("with 0, the password of a database user is verified at every request", async () => {
    const hash = await hashPassword("Database-Pw-1");
    let lookups = 0;
    const db: Queryable = {
      async query<R>(text: string): Promise<R[]> {
        if (!/FROM users WHERE username/.test(text)) throw new Error(`unexpected query: ${text}`);
        lookups += 1;
        return [{ id: 7, username: "alice", password_hash: hash, sysadmin: false }] as R[];
      },
    };
    const auth = new Authenticator(db, new RobotStore(db), new LoginThrottle(), undefined, undefined, { ttlSeconds: 0, max: 1000 });
    await auth.authenticate(basic("alice", "Database-Pw-1"));
    await auth.authenticate(basic("alice", "Database-Pw-1"));
    expect(lookups).toBe(2);
  });

  it("never remembers an OIDC CLI login past its refresh check, however long the cache's own lifetime", async () => {
    const secretHash = await hashPassword("Cli-Secret-1");
    let sessionChecks = 0;
    // The provider's last refresh vouches for 1 s more; the cache would keep the login 60 s.
    const cliSecrets = {
      account: async (username: string) => ({ userId: 5, username, sysadmin: false, secretHash }),
      checkSession: async () => {
        sessionChecks += 1;
        return { groups: [], validUntil: Date.now() + 1_000 };
      },
    } as unknown as OidcCliSecrets;
    const auth = new Authenticator(onboardedRows, new RobotStore(onboardedRows), new LoginThrottle(), undefined, cliSecrets, { ttlSeconds: 60, max: 1000 });
    await auth.authenticate(basic("dave", "Cli-Secret-1"));
    await auth.authenticate(basic("dave", "Cli-Secret-1"));
    expect(sessionChecks).toBe(1);
    advanceClock(1_001);
    await auth.authenticate(basic("dave", "Cli-Secret-1"));
    expect(sessionChecks).toBe(2);
  });
});
