/** UiSessions' rules with a clock the test moves: idle and absolute expiry, rotation, the CSRF token. */
import { createHash } from "node:crypto";
import type { SessionRow, SessionStore } from "../../registry/ui/session-store";
import { csrfTokenFor, UiSessions, type ResolvedSession } from "../../registry/ui/sessions";

/** The table in memory: the same contract as SessionStore. */
class MemoryStore {
  readonly rows = new Map<string, { userId: number; createdAt: Date; lastSeenAt: Date }>();
  async insert(idHash: Buffer, userId: number, now: Date) {
    this.rows.set(idHash.toString("hex"), { userId, createdAt: now, lastSeenAt: now });
  }
  async find(idHash: Buffer): Promise<SessionRow | null> {
    const row = this.rows.get(idHash.toString("hex"));
    return row ? { ...row, username: `user${row.userId}`, sysadmin: false, groups: [] } : null;
  }
  async touch(idHash: Buffer, now: Date) {
    const row = this.rows.get(idHash.toString("hex"));
    if (row && row.lastSeenAt < now) row.lastSeenAt = now;
  }
  async delete(idHash: Buffer) {
    this.rows.delete(idHash.toString("hex"));
  }
  async purgeExpired(idleBefore: Date, createdBefore: Date) {
    let purged = 0;
    for (const [key, row] of this.rows) {
      if (row.lastSeenAt < idleBefore || row.createdAt < createdBefore) {
        this.rows.delete(key);
        purged += 1;
      }
    }
    return purged;
  }
}

const MINUTE = 60_000;
let now: number;
let store: MemoryStore;
let sessions: UiSessions;

beforeEach(() => {
  now = Date.UTC(2026, 0, 1);
  store = new MemoryStore();
  sessions = new UiSessions(store as unknown as SessionStore, { idleSeconds: 30 * 60, maxSeconds: 12 * 3600 }, () => now);
});

test("only the SHA-256 of the session id is stored", async () => {
  const { sessionId } = await sessions.start(7);
  expect([...store.rows.keys()]).toEqual([createHash("sha256").update(sessionId).digest("hex")]);
});

test("a session used within the idle limit lives on; one left idle past it is over and deleted", async () => {
  const { sessionId } = await sessions.start(7);
  for (let i = 0; i < 5; i++) {
    now += 25 * MINUTE;
    expect((await sessions.resolve(sessionId))?.principal).toEqual({ kind: "user", id: 7, username: "user7", sysadmin: false });
  }
  now += 30 * MINUTE;
  expect(await sessions.resolve(sessionId)).toBeNull();
  expect(store.rows.size).toBe(0);
});

test("however busy, a session ends at its absolute limit", async () => {
  const { sessionId } = await sessions.start(7);
  for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
    now += 20 * MINUTE;
    expect(await sessions.resolve(sessionId)).not.toBeNull();
  }
  now += 20 * MINUTE;
  expect(await sessions.resolve(sessionId)).toBeNull();
});

test("starting a session ends the one the browser held (rotation) and purges expired ones", async () => {
  const old = await sessions.start(7);
  const abandoned = await sessions.start(8);
  now += 10 * MINUTE;
  await sessions.resolve(old.sessionId);
  now += 25 * MINUTE; // abandoned is now idle for 35 minutes, old for 25
  const fresh = await sessions.start(7, old.sessionId);
  expect(fresh.sessionId).not.toBe(old.sessionId);
  expect(await sessions.resolve(old.sessionId)).toBeNull();
  expect(store.rows.size).toBe(1);
  expect(abandoned.sessionId).not.toBe(fresh.sessionId);
});

test("the CSRF token is the session's own: derived from its id, not from the stored hash, compared exactly", async () => {
  const a = await sessions.start(7);
  const b = await sessions.start(7);
  expect(a.csrfToken).toBe(csrfTokenFor(a.sessionId));
  expect(a.csrfToken).not.toBe(b.csrfToken);
  const session = (await sessions.resolve(a.sessionId)) as ResolvedSession;
  expect(UiSessions.csrfMatches(session, a.csrfToken)).toBe(true);
  expect(UiSessions.csrfMatches(session, b.csrfToken)).toBe(false);
  expect(UiSessions.csrfMatches(session, undefined)).toBe(false);
  expect(UiSessions.csrfMatches(session, [a.csrfToken])).toBe(false);
});

test("ids that are not 43 base64url characters are never looked up", async () => {
  const spy = jest.spyOn(store, "find");
  for (const id of ["", "short", "x".repeat(44), `${"a".repeat(42)}=`]) expect(await sessions.resolve(id)).toBeNull();
  expect(spy).not.toHaveBeenCalled();
});
