import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal, PrincipalGroup } from "../auth/principal";
import { SessionStore } from "./session-store";

export interface SessionLimits {
  /** A session unused this long is over. */
  idleSeconds: number;
  /** A session this old is over, however busy. */
  maxSeconds: number;
}

/** A session presented by a request, resolved to its user. */
export interface ResolvedSession {
  principal: Extract<Principal, { kind: "user" }>;
  /** The token writes made with this session must carry (X-Harbor-CSRF-Token). */
  csrfToken: string;
  idHash: Buffer;
}

// last_seen_at is written at most this often per session: every /api call of a page would otherwise be a write.
const TOUCH_EVERY_MS = 60_000;

function hashOf(sessionId: string): Buffer {
  return createHash("sha256").update(sessionId).digest();
}

/**
 * The CSRF token of a session: an HMAC keyed with the session id itself. Whoever can compute it already holds the
 * session; it cannot be derived from the stored hash, needs no server key (every node computes the same one), and
 * is never stored.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHmac("sha256", sessionId).update("berth-ui-csrf-v1").digest("base64url");
}

/** A well-formed session id: 32 random bytes, base64url (43 characters). Anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Web UI sessions: created at sign-in with a fresh id (rotation: an id the browser held before is ended, so a
 * planted id never becomes a signed-in one), resolved per request with idle and absolute expiry, ended at sign-out.
 */
export class UiSessions {
  private readonly store: SessionStore;

  constructor(
    store: SessionStore,
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.store = store;
  }

  /**
   * Starts a session for `userId` with the groups its identity source gave it at sign-in; the id goes into the cookie
   * and nowhere else.
   */
  async start(userId: number, previousId?: string, groups: readonly PrincipalGroup[] = []): Promise<{ sessionId: string; csrfToken: string }> {
    if (previousId && SESSION_ID.test(previousId)) await this.store.delete(hashOf(previousId));
    const now = this.now();
    // Expired rows of everyone go here, the one write sessions add anyway, instead of a timer per node.
    await this.store.purgeExpired(new Date(now - this.limits.idleSeconds * 1000), new Date(now - this.limits.maxSeconds * 1000));
    const sessionId = randomBytes(32).toString("base64url");
    await this.store.insert(hashOf(sessionId), userId, new Date(now), groups);
    return { sessionId, csrfToken: csrfTokenFor(sessionId) };
  }

  /** The live session behind `sessionId`, or null (unknown, malformed or expired: an expired one is deleted). */
  async resolve(sessionId: string): Promise<ResolvedSession | null> {
    if (!SESSION_ID.test(sessionId)) return null;
    const idHash = hashOf(sessionId);
    const row = await this.store.find(idHash);
    if (!row) return null;
    const now = this.now();
    const idle = now - row.lastSeenAt.getTime() >= this.limits.idleSeconds * 1000;
    const old = now - row.createdAt.getTime() >= this.limits.maxSeconds * 1000;
    if (idle || old) {
      await this.store.delete(idHash);
      return null;
    }
    if (now - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await this.store.touch(idHash, new Date(now));
    return {
      principal: { kind: "user", id: row.userId, username: row.username, sysadmin: row.sysadmin, ...(row.groups.length > 0 ? { groups: row.groups } : {}) },
      csrfToken: csrfTokenFor(sessionId),
      idHash,
    };
  }

  async end(session: ResolvedSession): Promise<void> {
    await this.store.delete(session.idHash);
  }

  /** Whether `given` (the request's X-Harbor-CSRF-Token) is this session's token, compared in constant time. */
  static csrfMatches(session: ResolvedSession, given: string | string[] | undefined): boolean {
    if (typeof given !== "string") return false;
    const expected = Buffer.from(session.csrfToken);
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
