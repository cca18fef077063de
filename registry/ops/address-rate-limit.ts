import { isIPv6 } from "node:net";
import { LRUCache } from "lru-cache";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export interface RateLimit {
  /** Tokens added per second; 0 turns the limit off. */
  ratePerSecond: number;
  /** Bucket size: how many requests may come at once after a quiet spell. */
  burst: number;
}

// Bounded memory: an address evicted by a flood of others comes back with a full bucket, which costs at most one
// burst; the heap does not grow with the number of addresses seen.
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * One IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): counting each address apart would give it
 * 2^64 buckets. IPv4-mapped addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports) count as the IPv4
 * address they carry. Anything else (IPv4, an empty or unparsable address) is its own key.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ""] = address.toLowerCase().split("%")[0].split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = address.includes("::") && tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(":")}::/64`;
}

/**
 * A token bucket per client address: `burst` requests at once, then `ratePerSecond` on average. A refused request
 * takes no token, so a client that waits the Retry-After it was given gets in.
 */
export class AddressRateLimiter {
  private readonly buckets = new LRUCache<string, Bucket>({ max: MAX_TRACKED_ADDRESSES });

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `address`: 0 when the request may go ahead, otherwise the seconds until one is available. */
  take(address: string): number {
    if (this.limit.ratePerSecond === 0) return 0;
    const key = clientKey(address);
    const time = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, refilledAt: time };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((time - bucket.refilledAt) / 1000) * this.limit.ratePerSecond);
    bucket.refilledAt = time;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerSecond));
  }
}
