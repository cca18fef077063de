import { LRUCache } from "lru-cache";

interface FailureRecord {
  /** Failures since windowStart. */
  count: number;
  windowStart: number;
  blockedUntil: number;
  /** Blocks served in the current streak; each one doubles the next. */
  blocks: number;
}

const MAX_FAILURES_PER_USER = 5;
// Higher for addresses: many honest users can share one (NAT, a CI fleet, a proxy).
const MAX_FAILURES_PER_ADDRESS = 20;
const WINDOW_MS = 5 * 60_000;
const FIRST_BLOCK_MS = 60_000;
const MAX_BLOCK_MS = 15 * 60_000;
// Bounded memory: a flood of made-up usernames evicts the oldest records instead of growing the heap.
const MAX_TRACKED_KEYS = 10_000;

/**
 * Slows password guessing. After 5 failed logins within 5 minutes for one username (or 20 from one client
 * address), further attempts for that key are refused for a minute without checking the password. Once blocked,
 * a key is on probation: each further failure blocks it again for twice as long (at most 15 minutes), until it
 * stays quiet for a whole window after a block ends.
 */
export class LoginThrottle {
  private readonly failures = new LRUCache<string, FailureRecord>({ max: MAX_TRACKED_KEYS });

  constructor(private readonly now: () => number = Date.now) {}

  isBlocked(username: string, address: string): boolean {
    return this.blockedFor(username, address) > 0;
  }

  /** How long (ms) attempts for this username or from this address stay refused; 0 when they are not. */
  blockedFor(username: string, address: string): number {
    const time = this.now();
    const until = Math.max(...[userKey(username), addressKey(address)].map((key) => this.failures.get(key)?.blockedUntil ?? 0));
    return Math.max(0, until - time);
  }

  recordFailure(username: string, address: string): void {
    const time = this.now();
    this.recordFailureFor(userKey(username), MAX_FAILURES_PER_USER, time);
    this.recordFailureFor(addressKey(address), MAX_FAILURES_PER_ADDRESS, time);
  }

  /** Only the username starts over: a guesser must not clear its address by logging into an account of its own. */
  recordSuccess(username: string): void {
    this.failures.delete(userKey(username));
  }

  private recordFailureFor(key: string, limit: number, time: number): void {
    const record = this.stillCounting(this.failures.get(key), time) ?? { count: 0, windowStart: time, blockedUntil: 0, blocks: 0 };
    // A failure that lands inside a block came from a request checked before the block began (concurrent
    // guesses): it must not escalate the block once per request in flight.
    if (time < record.blockedUntil) return;
    record.count += 1;
    if (record.blocks > 0 || record.count >= limit) {
      record.blockedUntil = time + Math.min(FIRST_BLOCK_MS * 2 ** record.blocks, MAX_BLOCK_MS);
      record.blocks += 1;
    }
    this.failures.set(key, record);
  }

  /** The record if its failures still count: inside the window, or on probation after a block. */
  private stillCounting(record: FailureRecord | undefined, time: number): FailureRecord | undefined {
    if (record === undefined) return undefined;
    if (record.blocks > 0) return time - record.blockedUntil < WINDOW_MS ? record : undefined;
    return time - record.windowStart < WINDOW_MS ? record : undefined;
  }
}

function userKey(username: string): string {
  return `u:${username}`;
}

function addressKey(address: string): string {
  return `a:${address}`;
}
