/**
 * Requests without credentials are limited further than signed-in ones (issue 15, finding 8): a smaller body and a
 * shorter body deadline on /api and /service, and a request rate per client address (the client behind
 * BERTH_TRUSTED_PROXIES), answered 429 with Retry-After in the error format of the API asked.
 */
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { OpenRequest, rawRequest } from "../../support/raw-http";

let berth: TestBerth;
beforeAll(async () => {
  berth = await startBerth({
    env: { BERTH_TRUSTED_PROXIES: "127.0.0.1/32", BERTH_ANONYMOUS_RATE_PER_SECOND: "1", BERTH_ANONYMOUS_RATE_BURST: "3", BERTH_ANONYMOUS_BODY_TIMEOUT_SECONDS: "1" },
  });
});
afterAll(() => berth.close());

/** A project creation padded to about `size` bytes, from the client `address` (each test its own: own rate bucket). */
function createProject(address: string, size: number, headers: Record<string, string> = {}, chunked = false) {
  const body = JSON.stringify({ project_name: `padded-${size}-${address.replace(/\D/g, "")}`, metadata: { public: "false", padding: "x".repeat(Math.max(0, size - 100)) } });
  return rawRequest(berth.url, {
    method: "POST",
    path: "/api/v2.0/projects",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": address, ...headers },
    body,
    chunked,
  });
}

describe("request bodies without credentials", () => {
  it("refuses an /api body declared over 16 KiB with 413 before reading it; signed in, the same body is read", async () => {
    const anonymous = await createProject("198.51.100.1", 20_000);
    expect(anonymous.status).toBe(413);
    expect(anonymous.headers.connection).toBe("close");
    expect(anonymous.json()).toEqual({ errors: [{ code: "REQUEST_ENTITY_TOO_LARGE", message: "requests without credentials may send at most 16384 bytes; sign in to send more" }] });
    const signedIn = await createProject("198.51.100.1", 20_000, { Authorization: ADMIN_AUTH });
    expect(signedIn.status).not.toBe(413);
    expect(signedIn.status).toBeLessThan(500);
  });

  it("refuses a chunked /api body once it passes 16 KiB", async () => {
    const anonymous = await createProject("198.51.100.2", 40_000, {}, true);
    expect(anonymous.status).toBe(413);
    expect(anonymous.json()).toMatchObject({ errors: [{ code: "REQUEST_ENTITY_TOO_LARGE" }] });
  });

  it("reads a small anonymous body as before (and refuses the creation for lack of credentials)", async () => {
    const anonymous = await createProject("198.51.100.3", 1000);
    expect(anonymous.status).toBe(401);
  });

  it("cuts an anonymous body still arriving at its shorter deadline with 408, while a signed-in one may take longer", async () => {
    const open = (headers: Record<string, string>) =>
      new OpenRequest(berth.url, {
        method: "POST",
        path: "/api/v2.0/projects",
        headers: { "Content-Type": "application/json", "Content-Length": "64", "X-Forwarded-For": "198.51.100.4", ...headers },
      });
    const anonymous = open({});
    const signedIn = open({ Authorization: ADMIN_AUTH });
    const body = Buffer.from(JSON.stringify({ project_name: "slow-but-signed-in" }).padEnd(64, " "));
    const started = Date.now();
    // A byte every 200 ms to both: neither is ever idle. 2.4 s is past the anonymous deadline (1 s), well short of 30 s.
    for (let i = 0; i < 12; i++) {
      await signedIn.write(body.subarray(i, i + 1));
      await anonymous.write(body.subarray(i, i + 1)).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const cut = await anonymous.response;
    expect(cut.status).toBe(408);
    expect(cut.json()).toEqual({ errors: [{ code: "REQUEST_TIMEOUT", message: "the request body did not arrive in time" }] });
    await signedIn.write(body.subarray(12));
    const served = await signedIn.end();
    expect(served.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThan(2000);
  });
});

describe("request rate without credentials", () => {
  const get = (path: string, address: string, headers: Record<string, string> = {}) => fetch(`${berth.url}${path}`, { headers: { "X-Forwarded-For": address, ...headers } });

  it("answers 429 with Retry-After once an address has used its burst, on /v2 and /api alike", async () => {
    for (let i = 0; i < 3; i++) expect((await get("/v2/", "203.0.113.7")).status).toBe(401);
    const refused = await get("/v2/", "203.0.113.7");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ errors: [{ code: "TOOMANYREQUESTS" }] });
    const onApi = await get("/api/v2.0/projects", "203.0.113.7");
    expect(onApi.status).toBe(429);
    expect(await onApi.json()).toMatchObject({ errors: [{ code: "TOO_MANY_REQUEST" }] });
  });

  it("limits only that address, and never a caller with credentials", async () => {
    for (let i = 0; i < 4; i++) await (await get("/v2/", "203.0.113.8")).arrayBuffer();
    expect((await get("/v2/", "203.0.113.8")).status).toBe(429);
    expect((await get("/api/v2.0/projects", "203.0.113.9")).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await get("/v2/", "203.0.113.8", { Authorization: ADMIN_AUTH })).status).toBe(200);
  });

  it("lets the address in again after the Retry-After it was given", async () => {
    for (let i = 0; i < 4; i++) await (await get("/v2/", "203.0.113.10")).arrayBuffer();
    const refused = await get("/v2/", "203.0.113.10");
    expect(refused.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get("retry-after")) * 1000 + 100));
    expect((await get("/v2/", "203.0.113.10")).status).toBe(401);
  });
});
