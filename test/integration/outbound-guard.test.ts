import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ResolvedAddress } from "../../registry/outbound/address-guard";
import { startBerth, type TestBerth } from "../support/berth";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";

/**
 * The outbound guard as a deployment meets it: BERTH_OUTBOUND_ALLOW unset, so the test receiver on 127.0.0.1 is
 * exactly what must not be reachable. Host names resolve through a resolver this test controls, so "the DNS answer
 * changed after the policy was saved" can be staged without /etc/hosts.
 */
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const messageOf = async (response: Response) => ((await response.json()) as { errors: { message: string }[] }).errors[0].message;

describe("outbound requests with BERTH_OUTBOUND_ALLOW unset", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let receiver: Server;
  let port = 0;
  let hits = 0;
  const names = new Map<string, string>();
  const POLICIES = "/api/v2.0/projects/library/webhook/policies";

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      hits++;
      request.resume();
      response.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    port = (receiver.address() as AddressInfo).port;
    berth = await startBerth({
      env: { BERTH_WEBHOOK_RETRY_BASE_MS: "50" },
      resolve: async (hostname): Promise<ResolvedAddress[]> => {
        const address = names.get(hostname);
        if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
        return [{ address, family: 4 }];
      },
    });
    admin = new RegistryClient(berth.url);
  });
  afterAll(async () => {
    await berth.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it.each([
    ["loopback", () => `http://127.0.0.1:${port}/hook`, "a loopback address"],
    ["loopback in decimal", () => `http://2130706433:${port}/hook`, "a loopback address"],
    ["loopback in hex", () => `http://0x7f.1:${port}/hook`, "a loopback address"],
    ["IPv4-mapped IPv6 loopback", () => `http://[::ffff:127.0.0.1]:${port}/hook`, "a loopback address"],
    ["IPv6 loopback", () => `http://[::1]:${port}/hook`, "a loopback address"],
    ["cloud metadata", () => "http://169.254.169.254/latest/meta-data/", "a link-local address (cloud metadata)"],
    ["the unspecified address", () => `http://0.0.0.0:${port}/`, "an unspecified address"],
  ])("refuses a webhook target at %s when the policy is saved (400 naming the address and the rule)", async (_label, address, rule) => {
    const response = await admin.fetch(POLICIES, json("POST", { name: "ssrf", event_types: ["PUSH_ARTIFACT"], targets: [{ address: address(), auth_header: "Bearer x" }] }));
    expect(response.status).toBe(400);
    const message = await messageOf(response);
    expect(message).toMatch(/^targets\[0\]\.address: \S+ (resolves to [0-9a-f.:]+,|is) /);
    expect(message).toContain(rule.replace(/^an? /, ""));
    expect(hits).toBe(0);
  });

  it("refuses the registry itself", async () => {
    const response = await admin.fetch(POLICIES, json("POST", { name: "self", event_types: ["PUSH_ARTIFACT"], targets: [{ address: `${berth.url}/api/v2.0/projects` }] }));
    expect(response.status).toBe(400);
    expect(await messageOf(response)).toMatch(/the registry's own listening address|loopback/);
  });

  it("refuses at send time a name that resolved elsewhere when the policy was saved, once, without retries", async () => {
    names.set("hooks.ci.example", "203.0.113.20"); // TEST-NET-3: allowed, and nobody answers there
    const created = await admin.fetch(POLICIES, json("POST", { name: "rebinding", event_types: ["PUSH_ARTIFACT"], targets: [{ address: `http://hooks.ci.example:${port}/hook` }] }));
    expect(created.status).toBe(201);
    names.set("hooks.ci.example", "127.0.0.1");
    await admin.pushImage("library/app", "1.0");
    const location = created.headers.get("location")!;
    let executions: { status: string; status_message: string; metrics: { attempts: number } }[] = [];
    await waitUntil(async () => {
      executions = (await (await admin.fetch(`${location}/executions`)).json()) as typeof executions;
      return executions[0]?.status === "Error";
    }, "the refused delivery");
    expect(executions[0].metrics.attempts).toBe(1);
    expect(executions[0].status_message).toBe(`hooks.ci.example:${port} resolves to 127.0.0.1, a loopback address: outbound requests there are refused`);
    expect(hits).toBe(0);
    await admin.fetch(location, { method: "DELETE" });
  });

  it("refuses registry endpoints (save and ping) at loopback, metadata and the registry itself", async () => {
    for (const url of [`http://127.0.0.1:${port}`, "http://169.254.169.254", "http://2130706433", berth.url]) {
      const created = await admin.fetch("/api/v2.0/registries", json("POST", { name: "ssrf", url, credential: { access_key: "a", access_secret: "b" } }));
      expect(created.status).toBe(400);
      expect(await messageOf(created)).toMatch(/^url: \S+ (resolves to \S+,|is) .*: outbound requests there are refused$/);
      const ping = await admin.fetch("/api/v2.0/registries/ping", json("POST", { url }));
      expect(ping.status).toBe(400);
    }
    expect(hits).toBe(0);
  });

  it("keeps registry endpoints (and their ping) to system admins", async () => {
    await admin.createUser("plain", "Plain-Passw0rd");
    const plain = new RegistryClient(berth.url, basicAuth("plain", "Plain-Passw0rd"));
    expect((await plain.fetch("/api/v2.0/registries/ping", json("POST", { url: "http://10.1.2.3" }))).status).toBe(403);
    expect((await plain.fetch("/api/v2.0/registries", json("POST", { name: "x", url: "http://10.1.2.3" }))).status).toBe(403);
  });
});
