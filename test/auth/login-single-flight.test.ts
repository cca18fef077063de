import { Authenticator, BadCredentialsError } from "../../registry/auth/authenticate";
import { hashPassword } from "../../registry/auth/password";
import type { Queryable } from "../../registry/db/sql";

/**
 * Requests that carry the same Basic credentials while their login is not remembered (the first ones, or all those in
 * flight when the remembered login expires) share one password check: the two-node soak saw each of them run its own
 * scrypt (32 MiB apiece), RSS jumping by 130 MB every 30 s.
 */
const PASSWORD = "Single-Flight-123";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A users table of one, counting the lookups (one per password check). */
function countingDb(hash: string): Queryable & { lookups: number } {
  const db = {
    lookups: 0,
    async query<R>(text: string): Promise<R[]> {
      if (!/FROM users WHERE username/.test(text)) throw new Error(`unexpected query: ${text}`);
      db.lookups += 1;
      return [{ id: 7, username: "alice", password_hash: hash, sysadmin: false }] as R[];
    },
  };
  return db;
}

let hash: string;
beforeAll(async () => {
  hash = await hashPassword(PASSWORD);
});

describe("concurrent logins with the same credentials", () => {
  it("check the password once and all get the principal", async () => {
    const db = countingDb(hash);
    const auth = new Authenticator(db);
    const principals = await Promise.all(Array.from({ length: 8 }, () => auth.authenticate(basic("alice", PASSWORD), "10.0.0.1")));
    expect(principals).toHaveLength(8);
    for (const principal of principals) expect(principal).toEqual({ kind: "user", id: 7, username: "alice", sysadmin: false });
    expect(db.lookups).toBe(1);
    // Remembered afterwards, as before.
    await auth.authenticate(basic("alice", PASSWORD), "10.0.0.1");
    expect(db.lookups).toBe(1);
  });

  it("share a failure without remembering it, and never merge different credentials", async () => {
    const db = countingDb(hash);
    const auth = new Authenticator(db);
    const wrong = Array.from({ length: 4 }, () => auth.authenticate(basic("alice", "wrong-password"), "10.0.0.2"));
    const right = auth.authenticate(basic("alice", PASSWORD), "10.0.0.3");
    for (const attempt of wrong) await expect(attempt).rejects.toBeInstanceOf(BadCredentialsError);
    await expect(right).resolves.toMatchObject({ kind: "user", username: "alice" });
    expect(db.lookups).toBe(2);
    // A failed check is over once it settles: the next try checks again.
    await expect(auth.authenticate(basic("alice", "wrong-password"), "10.0.0.2")).rejects.toBeInstanceOf(BadCredentialsError);
    expect(db.lookups).toBe(3);
  });

  it("never remember a check that was under way when the account changed, and later requests do not join it", async () => {
    const db = countingDb(hash);
    let gate: Promise<void> | undefined;
    const slowDb: Queryable = {
      async query<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
        const rows = await db.query<R>(text, params);
        await gate; // the row with the old password was read; the change lands meanwhile
        return rows;
      },
    };
    const hold = () => {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    };
    const auth = new Authenticator(slowDb);
    const tick = () => new Promise((resolve) => setImmediate(resolve));

    let release = hold();
    const underWay = auth.authenticate(basic("alice", PASSWORD), "10.0.0.4");
    await tick();
    auth.forget("alice"); // the password was changed while the check ran
    release();
    await expect(underWay).resolves.toMatchObject({ username: "alice" });
    await auth.authenticate(basic("alice", PASSWORD), "10.0.0.4");
    expect(db.lookups).toBe(2); // not remembered: the next request checked again

    auth.forget("alice");
    release = hold();
    const before = auth.authenticate(basic("alice", PASSWORD), "10.0.0.4");
    await tick();
    auth.forget("alice");
    const after = auth.authenticate(basic("alice", PASSWORD), "10.0.0.4");
    await tick();
    release();
    await Promise.all([before, after]);
    expect(db.lookups).toBe(4); // the request after the change ran its own check
  });
});
