import { LoginThrottle } from "../../../registry/auth/login-throttle";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe("LoginThrottle", () => {
  let now = 0;
  const throttle = () => new LoginThrottle(() => now);
  /** Records `count` failures for `username`, each from its own address so only the username counts. */
  const failUser = (t: LoginThrottle, username: string, count: number) => {
    for (let i = 0; i < count; i++) t.recordFailure(username, `10.1.${count}.${i}`);
  };
  /** How long the username stays blocked from now, to the second (probes without touching the record). */
  const blockedFor = (t: LoginThrottle, username: string) => {
    const start = now;
    while (t.isBlocked(username, "198.51.100.1")) now += SECOND;
    const duration = now - start;
    now = start;
    return duration;
  };

  beforeEach(() => {
    now = 1_000_000;
  });

  it("blocks a username after five failures within five minutes, for a minute", () => {
    const t = throttle();
    failUser(t, "alice", 4);
    expect(t.isBlocked("alice", "10.0.0.9")).toBe(false);
    failUser(t, "alice", 1);
    expect(t.isBlocked("alice", "10.0.0.9")).toBe(true);
    expect(t.isBlocked("bob", "10.0.0.9")).toBe(false);
    expect(t.blockedFor("alice", "10.0.0.9")).toBe(MINUTE);
    expect(t.blockedFor("bob", "10.0.0.9")).toBe(0);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("doubles the block for each failure after one, up to fifteen minutes", () => {
    const t = throttle();
    failUser(t, "alice", 5);
    const blocks = [blockedFor(t, "alice")];
    for (let i = 0; i < 6; i++) {
      now += blocks[blocks.length - 1];
      failUser(t, "alice", 1);
      blocks.push(blockedFor(t, "alice"));
    }
    expect(blocks.map((ms) => ms / MINUTE)).toEqual([1, 2, 4, 8, 15, 15, 15]);
  });

  it("does not escalate for failures that were already in flight when the block began", () => {
    const t = throttle();
    failUser(t, "alice", 12);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("starts over after a quiet window following a block", () => {
    const t = throttle();
    failUser(t, "alice", 5);
    now += MINUTE + 5 * MINUTE;
    failUser(t, "alice", 4);
    expect(t.isBlocked("alice", "x")).toBe(false);
    failUser(t, "alice", 1);
    expect(blockedFor(t, "alice")).toBe(MINUTE);
  });

  it("blocks a client address that guesses many usernames, and only that address", () => {
    const t = throttle();
    for (let i = 0; i < 19; i++) t.recordFailure(`user${i}`, "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(false);
    t.recordFailure("user19", "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(true);
    expect(t.isBlocked("someone-else", "192.0.2.2")).toBe(false);
  });

  it("forgets failures older than the window", () => {
    const t = throttle();
    failUser(t, "bob", 4);
    now += 5 * MINUTE;
    failUser(t, "bob", 1);
    expect(t.isBlocked("bob", "b")).toBe(false);
  });

  it("resets a username on success, but not the address it came from", () => {
    const t = throttle();
    failUser(t, "bob", 4);
    t.recordSuccess("bob");
    failUser(t, "bob", 4);
    expect(t.isBlocked("bob", "e")).toBe(false);

    for (let i = 0; i < 20; i++) t.recordFailure(`victim${i}`, "203.0.113.7");
    t.recordSuccess("guessers-own-account");
    expect(t.isBlocked("guessers-own-account", "203.0.113.7")).toBe(true);
  });

  it("stays bounded: the oldest keys are evicted under a flood of made-up usernames", () => {
    const t = throttle();
    failUser(t, "alice", 5);
    for (let i = 0; i < 10_000; i++) t.recordFailure(`flood${i}`, `2001:db8::${i.toString(16)}`);
    expect(t.isBlocked("alice", "x")).toBe(false);
  });
});
