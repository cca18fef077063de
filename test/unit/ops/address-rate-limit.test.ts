import { AddressRateLimiter, clientKey } from "../../../registry/ops/address-rate-limit";

/** A limiter on a clock the test moves. */
function limiterAt(ratePerSecond: number, burst: number) {
  let now = 1_000_000;
  const limiter = new AddressRateLimiter({ ratePerSecond, burst }, () => now);
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe("AddressRateLimiter", () => {
  it("lets a burst through at once, then refuses with the seconds until the next token", () => {
    const { limiter } = limiterAt(2, 3);
    expect([1, 2, 3].map(() => limiter.take("203.0.113.5"))).toEqual([0, 0, 0]);
    expect(limiter.take("203.0.113.5")).toBe(1);
  });

  it("refills at the rate, and refusals take nothing from the bucket", () => {
    const { limiter, advance } = limiterAt(2, 3);
    for (let i = 0; i < 3; i++) limiter.take("203.0.113.5");
    for (let i = 0; i < 10; i++) expect(limiter.take("203.0.113.5")).toBeGreaterThan(0);
    advance(500); // one token at 2 per second, whatever the refusals
    expect(limiter.take("203.0.113.5")).toBe(0);
    expect(limiter.take("203.0.113.5")).toBeGreaterThan(0);
    advance(60_000); // never more than the burst
    expect([1, 2, 3, 4].map(() => limiter.take("203.0.113.5"))).toEqual([0, 0, 0, 1]);
  });

  it("asks a slow rate's client to wait as long as a token takes", () => {
    const { limiter } = limiterAt(1, 1);
    limiter.take("203.0.113.5");
    expect(limiter.take("203.0.113.5")).toBe(1);
    const slow = limiterAt(0.1, 1).limiter;
    slow.take("203.0.113.5");
    expect(slow.take("203.0.113.5")).toBe(10);
  });

  it("keeps one bucket per address, and one per IPv6 /64", () => {
    const { limiter } = limiterAt(1, 1);
    expect(limiter.take("203.0.113.5")).toBe(0);
    expect(limiter.take("203.0.113.6")).toBe(0);
    expect(limiter.take("::ffff:203.0.113.5")).toBe(1);
    expect(limiter.take("2001:db8:1:2::1")).toBe(0);
    expect(limiter.take("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe(1);
    expect(limiter.take("2001:db8:1:3::1")).toBe(0);
  });

  it("limits nothing at rate 0", () => {
    const { limiter } = limiterAt(0, 1);
    for (let i = 0; i < 100; i++) expect(limiter.take("203.0.113.5")).toBe(0);
  });
});

describe("clientKey", () => {
  it.each([
    ["203.0.113.5", "203.0.113.5"],
    ["::ffff:203.0.113.5", "203.0.113.5"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:0db8:0001:0002:0003:0004:0005:0006", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["", ""],
  ])("%s → %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});
