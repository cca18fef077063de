import { LRUCache } from "lru-cache";

interface Failures {
  count: number;
  firstAt: number;
  blockedUntil: number;
}

const MAX_FAILURES_PER_USER = 5;
// Higher for addresses: many honest users can share one (NAT, a CI fleet, a proxy).
const MAX_FAILURES_PER_ADDRESS = 20;
const WINDOW_MS = 5 * 60_000;
const BLOCK_MS = 60_000;

/**
 * Slows password guessing: after 5 failed logins within 5 minutes for one username, or 20 from one client
 * address, further attempts for it are refused for a minute without checking the password.
 */
export class LoginThrottle {
  private readonly failures = new LRUCache<string, Failures>({ max: 10_000 });

  constructor(private readonly now: () => number = Date.now) {}

  isBlocked(username: string, address: string): boolean {
    const time = this.now();
    return [`u:${username}`, `a:${address}`].some((key) => (this.failures.get(key)?.blockedUntil ?? 0) > time);
  }

  recordFailure(username: string, address: string): void {
    const time = this.now();
    for (const [key, limit] of [[`u:${username}`, MAX_FAILURES_PER_USER], [`a:${address}`, MAX_FAILURES_PER_ADDRESS]] as const) {
      const entry = this.failures.get(key);
      const current = entry && time - entry.firstAt < WINDOW_MS ? entry : { count: 0, firstAt: time, blockedUntil: 0 };
      current.count += 1;
      if (current.count >= limit) current.blockedUntil = time + BLOCK_MS;
      this.failures.set(key, current);
    }
  }

  recordSuccess(username: string): void {
    this.failures.delete(`u:${username}`);
  }
}
