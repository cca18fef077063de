import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

const PASSWORD = "Right-Passw0rd";

/** Logs in on /api as `username`, through a proxy that forwards for `forwardedFor` when given. */
async function login(berth: TestBerth, username: string, password: string, forwardedFor?: string): Promise<number> {
  const headers: Record<string, string> = { Authorization: basicAuth(username, password) };
  if (forwardedFor !== undefined) headers["X-Forwarded-For"] = forwardedFor;
  const response = await fetch(`${berth.url}/api/v2.0/users/current`, { headers });
  await response.arrayBuffer();
  return response.status;
}

/** Sends `count` wrong passwords for `username`; each answer is 401 (checked) or 429 (refused unchecked). */
async function failLogins(berth: TestBerth, username: string, count: number, forwardedFor?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await login(berth, username, `Wrong-${i}-Passw0rd`, forwardedFor));
  return statuses;
}

/** The client address the audit log recorded for creating `project`, created with `forwardedFor`. */
async function auditedAddress(berth: TestBerth, project: string, forwardedFor: string): Promise<string> {
  const admin = new RegistryClient(berth.url);
  const created = await admin.fetch("/api/v2.0/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": forwardedFor },
    body: JSON.stringify({ project_name: project }),
  });
  expect(created.status).toBe(201);
  const records = (await (await admin.fetch(`/api/v2.0/audit-logs?q=operation=create,resource_type=project,resource=${project}`)).json()) as { client_ip: string }[];
  expect(records).toHaveLength(1);
  return records[0]!.client_ip;
}

describe("failed-login throttling behind a trusted proxy (BERTH_TRUSTED_PROXIES=127.0.0.1/32)", () => {
  let berth: TestBerth;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_TRUSTED_PROXIES: "127.0.0.1/32", BERTH_LOGIN_FAILURES_PER_ADDRESS: "30" } });
  });
  afterAll(() => berth.close());

  it("does not lock admin out for other addresses when one address guesses its password", async () => {
    const statuses = await failLogins(berth, "admin", 10, "203.0.113.5");
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429, 429, 429]);
    expect(await login(berth, "admin", ADMIN_PASSWORD, "203.0.113.5")).toBe(429);
    expect(await login(berth, "admin", ADMIN_PASSWORD, "198.51.100.7")).toBe(200);
  });

  it("takes the right-most address its proxies did not add, so a client cannot escape by forging the header", async () => {
    const admin = new RegistryClient(berth.url);
    await admin.createUser("frank", PASSWORD);
    for (let i = 0; i < 5; i++) expect(await login(berth, "frank", `Wrong-${i}-Passw0rd`, `10.0.0.${i}, 203.0.113.9`)).toBe(401);
    expect(await login(berth, "frank", PASSWORD, "10.0.0.99, 203.0.113.9")).toBe(429);
    expect(await login(berth, "frank", PASSWORD, "203.0.113.9, 127.0.0.1, 198.51.100.9")).toBe(200);
  });

  it("lets other users in from an address where some users keep failing, up to that address's own limit", async () => {
    const admin = new RegistryClient(berth.url);
    await admin.createUser("erin", PASSWORD);
    const shared = "192.0.2.50";
    // One user retrying a wrong password: blocked after five, the rest refused unchecked.
    expect((await failLogins(berth, "ci-bot", 20, shared)).filter((status) => status === 401)).toHaveLength(5);
    // Three more misconfigured clients: 20 checked failures from the address in all, under its limit of 30.
    for (const user of ["ci-1", "ci-2", "ci-3"]) await failLogins(berth, user, 5, shared);
    expect(await login(berth, "erin", PASSWORD, shared)).toBe(200);

    // Past the address's limit, guessing many usernames blocks the address, and only it.
    for (let i = 0; i < 10; i++) await failLogins(berth, `guess-${i}`, 1, shared);
    // A password erin never sent: her right one is remembered from the login above and skips the check.
    expect(await login(berth, "erin", `${PASSWORD}-but-not-cached`, shared)).toBe(429);
    expect(await login(berth, "erin", PASSWORD, "192.0.2.51")).toBe(200);
  });

  it("records the forwarded client address in the audit log", async () => {
    expect(await auditedAddress(berth, "forwarded", "203.0.113.77")).toBe("203.0.113.77");
  });
});

describe("failed-login throttling without trusted proxies", () => {
  let berth: TestBerth;
  beforeAll(async () => {
    berth = await startBerth();
  });
  afterAll(() => berth.close());

  it("records the socket's address in the audit log, whatever the header claims", async () => {
    expect(await auditedAddress(berth, "direct", "203.0.113.77")).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For: a client cannot pick a fresh address for each guess", async () => {
    await new RegistryClient(berth.url).createUser("gina", PASSWORD);
    for (let i = 0; i < 5; i++) expect(await login(berth, "gina", `Wrong-${i}-Passw0rd`, `203.0.113.${i}`)).toBe(401);
    expect(await login(berth, "gina", PASSWORD, "198.51.100.7")).toBe(429);
  });
});
