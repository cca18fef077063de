import { LoginThrottle } from "../../../registry/auth/login-throttle";

describe("LoginThrottle", () => {
  let now = 0;
  const throttle = () => new LoginThrottle(() => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it("blocks a username after five failures within five minutes, for a minute", () => {
    const t = throttle();
    for (let i = 0; i < 4; i++) t.recordFailure("alice", `10.0.0.${i}`);
    expect(t.isBlocked("alice", "10.0.0.9")).toBe(false);
    t.recordFailure("alice", "10.0.0.5");
    expect(t.isBlocked("alice", "10.0.0.9")).toBe(true);
    now += 61_000;
    expect(t.isBlocked("alice", "10.0.0.9")).toBe(false);
  });

  it("blocks a client address that guesses many usernames", () => {
    const t = throttle();
    for (let i = 0; i < 19; i++) t.recordFailure(`user${i}`, "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(false);
    t.recordFailure("user19", "192.0.2.1");
    expect(t.isBlocked("someone-else", "192.0.2.1")).toBe(true);
    expect(t.isBlocked("someone-else", "192.0.2.2")).toBe(false);
  });

  it("forgets failures older than the window and after a success", () => {
    const t = throttle();
    for (let i = 0; i < 4; i++) t.recordFailure("bob", `a${i}`);
    now += 6 * 60_000;
    t.recordFailure("bob", "a9");
    expect(t.isBlocked("bob", "b")).toBe(false);
    for (let i = 0; i < 3; i++) t.recordFailure("bob", `c${i}`);
    t.recordSuccess("bob");
    t.recordFailure("bob", "d");
    expect(t.isBlocked("bob", "e")).toBe(false);
  });
});
