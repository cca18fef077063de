import { DEFAULT_LOGIN_THROTTLE_LIMITS, LoginThrottle, type LoginThrottleLimits } from "../../../registry/auth/login-throttle";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOME = "198.51.100.1";

describe("LoginThrottle", () => {
  let now = 0;
  const throttle = (limits: Partial<LoginThrottleLimits> = {}) => new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE_LIMITS, ...limits }, () => now);
  /** Records `count` failures for `username` from `address`. */
  const fail = (t: LoginThrottle, username: string, count: number, address = HOME) => {
    for (let i = 0; i < count; i++) t.recordFailure(username, address);
  };
  /** What Authenticator does with a wrong password: refused unchecked while blocked, otherwise a failure. */
  const attempt = (t: LoginThrottle, username: string, address: string) => {
    if (!t.isBlocked(username, address)) t.recordFailure(username, address);
  };
  /** How long the pair stays blocked from now, to the second (probes without touching the record). */
  const blockedFor = (t: LoginThrottle, username: string, address = HOME) => {
    const start = now;
    while (t.isBlocked(username, address)) now += SECOND;
    const duration = now - start;
    now = start;
    return duration;
  };

  beforeEach(() => {
    now = 1_000_000;
  });

  it("blocks a username from one address after five failures within five minutes, for a minute", () => {
    const t = throttle();
    fail(t, "alice", 4);
    expect(t.isBlocked("alice", HOME)).toBe(false);
    fail(t, "alice", 1);
    expect(t.isBlocked("alice", HOME)).toBe(true);
    expect(t.isBlocked("bob", HOME)).toBe(false);
    expect(t.blockedFor("alice", HOME)).toBe(MINUTE);
    expect(t.blockedFor("bob", HOME)).toBe(0);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("never blocks a username for other addresses, however many fail for it elsewhere", () => {
    const t = throttle();
    for (let i = 0; i < 50; i++) fail(t, "admin", 20, `203.0.113.${i}`);
    expect(t.isBlocked("admin", "203.0.113.7")).toBe(true);
    expect(t.isBlocked("admin", "192.0.2.10")).toBe(false);
    expect(t.blockedFor("admin", "192.0.2.10")).toBe(0);
  });

  it("doubles the block for each failure after one, up to fifteen minutes", () => {
    const t = throttle();
    fail(t, "alice", 5);
    const blocks = [blockedFor(t, "alice")];
    for (let i = 0; i < 6; i++) {
      now += blocks[blocks.length - 1];
      fail(t, "alice", 1);
      blocks.push(blockedFor(t, "alice"));
    }
    expect(blocks.map((ms) => ms / MINUTE)).toEqual([1, 2, 4, 8, 15, 15, 15]);
  });

  it("does not escalate for failures that were already in flight when the block began", () => {
    const t = throttle();
    fail(t, "alice", 12);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("starts over after a quiet window following a block", () => {
    const t = throttle();
    fail(t, "alice", 5);
    now += MINUTE + 5 * MINUTE;
    fail(t, "alice", 4);
    expect(t.isBlocked("alice", HOME)).toBe(false);
    fail(t, "alice", 1);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("blocks a client address that guesses many usernames, and only that address", () => {
    const t = throttle();
    for (let i = 0; i < 99; i++) t.recordFailure(`user${i}`, "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(false);
    t.recordFailure("user99", "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(true);
    expect(t.isBlocked("someone-else", "192.0.2.2")).toBe(false);
  });

  it("lets one user retrying a wrong password for an hour from a shared address lock out only that user there", () => {
    const t = throttle();
    for (let second = 0; second < 3600; second++) {
      attempt(t, "ci-bot", HOME);
      now += SECOND;
    }
    expect(t.isBlocked("ci-bot", HOME)).toBe(true);
    expect(t.isBlocked("alice", HOME)).toBe(false);
  });

  it("does not count failures in flight during a pair's block towards the address", () => {
    const t = throttle({ failuresPerAddress: 10 });
    fail(t, "alice", 200);
    expect(t.isBlocked("bob", HOME)).toBe(false);
  });

  it("follows the configured limits", () => {
    const t = throttle({ failuresPerUser: 2, failuresPerAddress: 3, firstBlockMs: 10 * SECOND, maxBlockMs: 15 * SECOND, windowMs: MINUTE });
    fail(t, "alice", 2);
    expect(blockedFor(t, "alice")).toBe(10 * SECOND);
    fail(t, "bob", 1);
    expect(t.isBlocked("carol", HOME)).toBe(true);
    now += 10 * SECOND;
    fail(t, "alice", 1);
    expect(blockedFor(t, "alice")).toBe(15 * SECOND);
  });

  it("resets a pair on success, but not the address it came from", () => {
    const t = throttle();
    fail(t, "bob", 4);
    t.recordSuccess("bob", HOME);
    fail(t, "bob", 4);
    expect(t.isBlocked("bob", HOME)).toBe(false);

    for (let i = 0; i < 100; i++) t.recordFailure(`victim${i}`, "203.0.113.7");
    t.recordSuccess("guessers-own-account", "203.0.113.7");
    expect(t.isBlocked("guessers-own-account", "203.0.113.7")).toBe(true);
  });

  it("forgets failures older than the window", () => {
    const t = throttle();
    fail(t, "bob", 4);
    now += 5 * MINUTE;
    fail(t, "bob", 1);
    expect(t.isBlocked("bob", HOME)).toBe(false);
  });

  it("keeps usernames and addresses apart in its keys", () => {
    const t = throttle({ failuresPerAddress: 1000 });
    fail(t, "a:b", 5, "c");
    expect(t.isBlocked("a", "b:c")).toBe(false);
    expect(t.isBlocked("a:b", "c")).toBe(true);
  });

  it("stays bounded: the oldest keys are evicted under a flood of made-up usernames", () => {
    const t = throttle();
    fail(t, "alice", 5);
    for (let i = 0; i < 10_000; i++) t.recordFailure(`flood${i}`, `2001:db8::${i.toString(16)}`);
    expect(t.isBlocked("alice", HOME)).toBe(false);
  });
});
