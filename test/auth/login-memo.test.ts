import crypto from "node:crypto";
import { Authenticator, BadCredentialsError } from "../../registry/auth/authenticate";
import { LoginThrottle } from "../../registry/auth/login-throttle";
import { hashPassword } from "../../registry/auth/password";
import type { Queryable } from "../../registry/db/sql";
import { RobotStore } from "../../registry/robots/store";

/**
 * Registry clients log in again (Basic credentials on /service/token or on every request) long after the 30 s login
 * cache forgot them. While the account's stored hash is the one a header was proven right against, the same header
 * needs no scrypt; any change of the stored hash (a new password, on this node or another) refuses the old one at once.
 */
const OLD = "Memo-Password-1";
const NEW = "Memo-Password-2";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A users table of one whose hash a test can change, as another node's password change would. */
function usersTable(initial: string): Queryable & { hash: string; lookups: number } {
  const db = {
    hash: initial,
    lookups: 0,
    async query<R>(text: string): Promise<R[]> {
      if (!/FROM users WHERE username/.test(text)) throw new Error(`unexpected query: ${text}`);
      db.lookups += 1;
      return [{ id: 7, username: "alice", password_hash: db.hash, sysadmin: false }] as R[];
    },
  };
  return db;
}

let oldHash: string;
let newHash: string;
let now: number;
let scrypts: jest.SpyInstance;

beforeAll(async () => {
  [oldHash, newHash] = await Promise.all([hashPassword(OLD), hashPassword(NEW)]);
});

beforeEach(() => {
  now = Date.now();
  jest.spyOn(Date, "now").mockImplementation(() => now);
  scrypts = jest.spyOn(crypto, "scrypt");
});

afterEach(() => jest.restoreAllMocks());

/** Past the login cache (30 s), inside the memo's lifetime. */
const afterCacheExpiry = () => (now += 31_000);

describe("verified secrets remembered while the stored hash is unchanged", () => {
  it("log in again after the login cache expired without another scrypt, still reading the account", async () => {
    const db = usersTable(oldHash);
    const auth = new Authenticator(db);
    await expect(auth.authenticate(basic("alice", OLD))).resolves.toMatchObject({ username: "alice" });
    expect(scrypts).toHaveBeenCalledTimes(1);

    afterCacheExpiry();
    await expect(auth.authenticate(basic("alice", OLD))).resolves.toMatchObject({ username: "alice" });
    expect(scrypts).toHaveBeenCalledTimes(1);
    expect(db.lookups).toBe(2); // the row was read again: its hash (and rights) decide
  });

  it("refuse the old password as soon as the stored hash changes, without being told (another node changed it)", async () => {
    const db = usersTable(oldHash);
    const auth = new Authenticator(db);
    await auth.authenticate(basic("alice", OLD));
    db.hash = newHash;
    afterCacheExpiry();
    await expect(auth.authenticate(basic("alice", OLD))).rejects.toBeInstanceOf(BadCredentialsError);
    await expect(auth.authenticate(basic("alice", NEW))).resolves.toMatchObject({ username: "alice" });
    expect(scrypts).toHaveBeenCalledTimes(3); // old (remembered), old against the new hash, new
  });

  it("refuse the old password at once after a change on this node, the login cache included", async () => {
    const db = usersTable(oldHash);
    const auth = new Authenticator(db);
    await auth.authenticate(basic("alice", OLD));
    db.hash = newHash;
    auth.forget("alice");
    await expect(auth.authenticate(basic("alice", OLD))).rejects.toBeInstanceOf(BadCredentialsError);
    // A password changed back writes a new salt, so the memo of the first hash does not apply either.
    db.hash = await hashPassword(OLD);
    auth.forget("alice");
    const before = scrypts.mock.calls.length;
    await expect(auth.authenticate(basic("alice", OLD))).resolves.toMatchObject({ username: "alice" });
    expect(scrypts.mock.calls.length).toBe(before + 1);
  });

  it("never stand in for a wrong password, and run scrypt each time for one", async () => {
    const db = usersTable(oldHash);
    const auth = new Authenticator(db, undefined, new LoginThrottle({ failuresPerUser: 100, failuresPerAddress: 100, windowMs: 1000, firstBlockMs: 1000, maxBlockMs: 1000 }));
    await auth.authenticate(basic("alice", OLD));
    for (let i = 0; i < 3; i++) {
      afterCacheExpiry();
      await expect(auth.authenticate(basic("alice", "Wrong-Password-1"))).rejects.toBeInstanceOf(BadCredentialsError);
    }
    expect(scrypts).toHaveBeenCalledTimes(4);
  });

  it("run scrypt again once the memo's lifetime is over, or always when it is 0", async () => {
    const db = usersTable(oldHash);
    const auth = new Authenticator(db, undefined, undefined, undefined, undefined, undefined, 60_000);
    await auth.authenticate(basic("alice", OLD));
    now += 61_000;
    await auth.authenticate(basic("alice", OLD));
    expect(scrypts).toHaveBeenCalledTimes(2);

    const off = new Authenticator(usersTable(oldHash), undefined, undefined, undefined, undefined, undefined, 0);
    await off.authenticate(basic("alice", OLD));
    afterCacheExpiry();
    await off.authenticate(basic("alice", OLD));
    expect(scrypts).toHaveBeenCalledTimes(4);
  });

  it("apply to robot secrets too, and still refuse a robot disabled since", async () => {
    const robot = { id: 3, secret_hash: oldHash, disabled: false, expires_at: -1, permissions: [] };
    const robots = { credentialsOf: async () => robot } as unknown as RobotStore;
    const auth = new Authenticator(usersTable(oldHash), robots);
    await expect(auth.authenticate(basic("robot$ci", OLD))).resolves.toMatchObject({ kind: "robot", name: "robot$ci" });
    afterCacheExpiry();
    await expect(auth.authenticate(basic("robot$ci", OLD))).resolves.toMatchObject({ kind: "robot" });
    expect(scrypts).toHaveBeenCalledTimes(1);
    robot.disabled = true;
    afterCacheExpiry();
    await expect(auth.authenticate(basic("robot$ci", OLD))).rejects.toThrow(/disabled/);
    robot.disabled = false;
    robot.secret_hash = newHash; // the secret was regenerated
    afterCacheExpiry();
    await expect(auth.authenticate(basic("robot$ci", OLD))).rejects.toBeInstanceOf(BadCredentialsError);
  });
});
