import { LRUCache } from "lru-cache";

interface FailureRecord {
  /** Failures since windowStart. */
  count: number;
  windowStart: number;
  blockedUntil: number;
  /** Blocks served in the current streak; each one doubles the next. */
  blocks: number;
}

export interface LoginThrottleLimits {
  /** Failed logins of one username from one client address, within a window, before that pair is blocked. */
  failuresPerUser: number;
  /**
   * Failed logins from one client address, any usernames, before the address is blocked. Much higher than the
   * per-user limit: honest users share addresses (NAT, a CI fleet, an untrusted proxy), and one user's mistyped
   * password must not lock out everyone behind the same address.
   */
  failuresPerAddress: number;
  windowMs: number;
  firstBlockMs: number;
  maxBlockMs: number;
}

export const DEFAULT_LOGIN_THROTTLE_LIMITS: LoginThrottleLimits = {
  failuresPerUser: 5,
  failuresPerAddress: 100,
  windowMs: 5 * 60_000,
  firstBlockMs: 60_000,
  maxBlockMs: 15 * 60_000,
};

// Bounded memory: a flood of made-up usernames evicts the oldest records instead of growing the heap.
const MAX_TRACKED_KEYS = 10_000;

/**
 * Slows password guessing without handing anyone a way to lock others out. Failures count per (username, client
 * address) and per client address, never per username alone: a guesser elsewhere cannot block the owner's logins.
 * After `failuresPerUser` failures of one username from one address within the window, that pair is refused for
 * `firstBlockMs` without checking the password; after `failuresPerAddress` failures from one address, the address is.
 * Once blocked, a key is on probation: each further failure blocks it again for twice as long (at most
 * `maxBlockMs`), until it stays quiet for a whole window after a block ends. Refused attempts are not failures, so
 * one client retrying a wrong password feeds the address's count only a few times per window.
 */
export class LoginThrottle {
  private readonly failures = new LRUCache<string, FailureRecord>({ max: MAX_TRACKED_KEYS });

  constructor(
    private readonly limits: LoginThrottleLimits = DEFAULT_LOGIN_THROTTLE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  isBlocked(username: string, address: string): boolean {
    return this.blockedFor(username, address) > 0;
  }

  /** How long (ms) attempts for this username from this address stay refused; 0 when they are not. */
  blockedFor(username: string, address: string): number {
    const time = this.now();
    const until = Math.max(...[pairKey(username, address), addressKey(address)].map((key) => this.failures.get(key)?.blockedUntil ?? 0));
    return Math.max(0, until - time);
  }

  recordFailure(username: string, address: string): void {
    const time = this.now();
    // Counted for the address only when it counted for the pair: requests in flight when the pair's block began
    // must not push a shared address towards its own block.
    if (!this.recordFailureFor(pairKey(username, address), this.limits.failuresPerUser, time)) return;
    this.recordFailureFor(addressKey(address), this.limits.failuresPerAddress, time);
  }

  /** Only the pair starts over: a guesser must not clear its address by logging into an account of its own. */
  recordSuccess(username: string, address: string): void {
    this.failures.delete(pairKey(username, address));
  }

  /** False when the failure did not count (the key was already blocked). */
  private recordFailureFor(key: string, limit: number, time: number): boolean {
    const record = this.stillCounting(this.failures.get(key), time) ?? { count: 0, windowStart: time, blockedUntil: 0, blocks: 0 };
    // A failure that lands inside a block came from a request checked before the block began (concurrent
    // guesses): it must not escalate the block once per request in flight.
    if (time < record.blockedUntil) return false;
    record.count += 1;
    if (record.blocks > 0 || record.count >= limit) {
      record.blockedUntil = time + Math.min(this.limits.firstBlockMs * 2 ** record.blocks, this.limits.maxBlockMs);
      record.blocks += 1;
    }
    this.failures.set(key, record);
    return true;
  }

  /** The record if its failures still count: inside the window, or on probation after a block. */
  private stillCounting(record: FailureRecord | undefined, time: number): FailureRecord | undefined {
    if (record === undefined) return undefined;
    if (record.blocks > 0) return time - record.blockedUntil < this.limits.windowMs ? record : undefined;
    return time - record.windowStart < this.limits.windowMs ? record : undefined;
  }
}

// JSON keeps the two parts apart whatever characters a username holds.
function pairKey(username: string, address: string): string {
  return `p:${JSON.stringify([username, address])}`;
}

function addressKey(address: string): string {
  return `a:${address}`;
}

/** How long the Authenticator remembers a verified password or robot secret by default (BERTH_LOGIN_MEMO_SECONDS). */
export const DEFAULT_LOGIN_MEMO_MS = 900_000;
