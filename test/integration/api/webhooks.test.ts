import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { spawnBerth, startBerth, prepareEnvironment, ADMIN_AUTH, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A webhook receiver on 127.0.0.1: records what arrives and answers as `respond` says. */
class Receiver {
  readonly received: Received[] = [];
  respond: (count: number, response: ServerResponse) => void = (_count, response) => response.writeHead(200).end("ok");
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        this.received.push({ headers: request.headers, body });
        this.respond(this.received.length, response);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  payloads(): { type: string; event_data: Record<string, unknown>; operator: string }[] {
    return this.received.map((r) => JSON.parse(r.body));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const SECRET = "hook-signing-secret";

function policy(url: string, extra: Record<string, unknown> = {}) {
  return {
    name: "ci",
    event_types: ["PUSH_ARTIFACT"],
    targets: [{ type: "http", address: url, auth_header: "Bearer ci-token", secret: SECRET }],
    ...extra,
  };
}

describe("webhooks", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let receiver: Receiver;
  const POLICIES = "/api/v2.0/projects/library/webhook/policies";

  beforeAll(async () => {
    berth = await startBerth({ env: { ...RECEIVERS_ON_LOOPBACK, BERTH_WEBHOOK_RETRY_BASE_MS: "50" } });
    admin = new RegistryClient(berth.url);
    receiver = new Receiver();
    await receiver.start();
  });
  afterAll(async () => {
    await berth.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.respond = (_count, response) => response.writeHead(200).end("ok");
  });

  it("sends a signed PUSH_ARTIFACT payload naming repository, tag and digest", async () => {
    const created = await admin.fetch(POLICIES, json("POST", policy(`${receiver.url}?token=dropped#frag`)));
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    const shown = (await (await admin.fetch(location.replace("/api/v2.0/projects/library", "/api/v2.0/projects/library"))).json()) as {
      targets: { address: string; auth_header: string; has_auth_header: boolean; has_secret: boolean }[];
    };
    expect(shown.targets[0]).toMatchObject({ address: receiver.url, auth_header: "", has_auth_header: true, has_secret: true });
    expect(JSON.stringify(shown)).not.toContain(SECRET);

    const image = await admin.pushImage("library/app", "1.0");
    await waitUntil(() => receiver.received.length > 0, "the webhook");
    const [delivery] = receiver.received;
    expect(delivery.headers.authorization).toBe("Bearer ci-token");
    expect(delivery.headers["x-berth-signature-256"]).toBe(`sha256=${createHmac("sha256", SECRET).update(delivery.body).digest("hex")}`);
    const payload = JSON.parse(delivery.body);
    expect(payload).toMatchObject({
      type: "PUSH_ARTIFACT",
      operator: "admin",
      event_data: {
        resources: [{ digest: image.manifestDigest, tag: "1.0", resource_url: "library/app:1.0" }],
        repository: { name: "app", namespace: "library", repo_full_name: "library/app", repo_type: "public" },
      },
    });
    expect(Math.abs(payload.occur_at - Date.now() / 1000)).toBeLessThan(3600);

    const executions = await waitForExecutions(admin, location, (e) => e[0]?.status === "Success");
    expect(executions[0]).toMatchObject({ vendor_type: "WEBHOOK", trigger: "EVENT", metrics: { attempts: 1 } });
    expect((await admin.fetch(location, { method: "DELETE" })).status).toBe(200);
  });

  it("answers Harbor's lasttrigger and jobs views of a policy's deliveries", async () => {
    const created = await admin.fetch(POLICIES, json("POST", policy(receiver.url, { name: "watched", event_types: ["PUSH_ARTIFACT", "DELETE_ARTIFACT"] })));
    const location = created.headers.get("location")!;
    const policyId = Number(location.split("/").pop());
    const webhook = "/api/v2.0/projects/library/webhook";
    const before = (await (await admin.fetch(`${webhook}/lasttrigger`)).json()) as { policy_name: string; event_type: string; last_trigger_time: string | null }[];
    expect(before.filter((t) => t.policy_name === "watched")).toEqual([
      expect.objectContaining({ event_type: "DELETE_ARTIFACT", enabled: true, last_trigger_time: null }),
      expect.objectContaining({ event_type: "PUSH_ARTIFACT", enabled: true, last_trigger_time: null }),
    ]);
    await admin.pushImage("library/app", "1.2");
    await waitForExecutions(admin, location, (e) => e[0]?.status === "Success");
    const after = (await (await admin.fetch(`${webhook}/lasttrigger`)).json()) as { policy_name: string; event_type: string; last_trigger_time: string | null }[];
    expect(Date.parse(after.find((t) => t.policy_name === "watched" && t.event_type === "PUSH_ARTIFACT")!.last_trigger_time!)).not.toBeNaN();
    const jobs = (await (await admin.fetch(`${webhook}/jobs?policy_id=${policyId}`)).json()) as Record<string, unknown>[];
    expect(jobs).toEqual([expect.objectContaining({ policy_id: policyId, event_type: "PUSH_ARTIFACT", notify_type: "http", status: "Success", job_detail: "" })]);
    expect((await admin.fetch(`${webhook}/jobs`)).status).toBe(400);
    expect((await admin.fetch(`${webhook}/jobs?policy_id=999999`)).status).toBe(404);
    await admin.fetch(location, { method: "DELETE" });
  });

  it("retries a receiver that answers 500, and records each attempt", async () => {
    receiver.respond = (count, response) => (count < 3 ? response.writeHead(500).end("busy") : response.writeHead(204).end());
    const created = await admin.fetch(POLICIES, json("POST", policy(receiver.url, { name: "flaky" })));
    const location = created.headers.get("location")!;
    await admin.pushImage("library/app", "1.1");
    const [execution] = await waitForExecutions(admin, location, (e) => e[0]?.status === "Success");
    expect(execution.metrics).toEqual({ attempts: 3 });
    const tasks = (await (await admin.fetch(`${location}/executions/${execution.id}/tasks`)).json()) as { id: number; status: string; status_message: string }[];
    expect(tasks.map((t) => t.status)).toEqual(["Error", "Error", "Success"]);
    expect(tasks[0].status_message).toMatch(/receiver answered 500: busy/);
    const log = await (await admin.fetch(`${location}/executions/${execution.id}/tasks/${tasks[0].id}/log`)).text();
    expect(log).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/hook PUSH_ARTIFACT: failed: receiver answered 500/);
    expect(receiver.received).toHaveLength(3);
    await admin.fetch(location, { method: "DELETE" });
  });

  it("shows the receiver's answer to system admins only; a project admin sees the status code", async () => {
    receiver.respond = (_count, response) => response.writeHead(500).end("internal: db at 10.0.0.7 is down");
    await admin.createUser("hooker", "Hooker-Passw0rd");
    await admin.addMember("library", "hooker", 1);
    const hooker = new RegistryClient(berth.url, basicAuth("hooker", "Hooker-Passw0rd"));
    const created = await hooker.fetch(POLICIES, json("POST", policy(receiver.url, { name: "answers" })));
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    await admin.pushImage("library/app", "1.9");
    const [execution] = await waitForExecutions(admin, location, (e) => (e[0]?.metrics.attempts ?? 0) >= 1);
    const tasksUrl = `${location}/executions/${execution.id}/tasks`;
    type Task = { id: number; status_message: string };
    const [asAdmin] = (await (await admin.fetch(tasksUrl)).json()) as Task[];
    const [asProjectAdmin] = (await (await hooker.fetch(tasksUrl)).json()) as Task[];
    expect(asAdmin.status_message).toBe("receiver answered 500: internal: db at 10.0.0.7 is down");
    expect(asProjectAdmin.status_message).toBe("receiver answered 500");
    const [executionSeen] = (await (await hooker.fetch(`${location}/executions`)).json()) as { status_message: string }[];
    expect(executionSeen.status_message).toBe("receiver answered 500");
    const log = await (await hooker.fetch(`${tasksUrl}/${asProjectAdmin.id}/log`)).text();
    expect(log).toMatch(/failed: receiver answered 500\n$/);
    expect(await (await admin.fetch(`${tasksUrl}/${asAdmin.id}/log`)).text()).toContain("db at 10.0.0.7");
    await admin.fetch(location, { method: "DELETE" });
  });

  it("refuses more targets than BERTH_WEBHOOK_MAX_TARGETS (10)", async () => {
    const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ address: `${receiver.url}/${i}` }));
    const refused = await admin.fetch(POLICIES, json("POST", { name: "many", event_types: ["PUSH_ARTIFACT"], targets: targets(11) }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toBe(
      "a policy may have at most 10 targets (BERTH_WEBHOOK_MAX_TARGETS), got 11",
    );
    const created = await admin.fetch(POLICIES, json("POST", { name: "many", event_types: ["PUSH_ARTIFACT"], targets: targets(10) }));
    expect(created.status).toBe(201);
    await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
  });

  it("does not hold up a push while the receiver hangs", async () => {
    const answers: ServerResponse[] = [];
    receiver.respond = (_count, response) => answers.push(response); // never answers
    const created = await admin.fetch(POLICIES, json("POST", policy(receiver.url, { name: "hanging" })));
    await admin.pushImage("library/app", "1.2");
    await waitUntil(() => receiver.received.length > 0, "the hanging delivery to arrive");
    // The receiver holds the first delivery open; the registry keeps serving pushes meanwhile.
    await admin.pushImage("library/app", "1.3");
    expect(answers.length).toBeGreaterThan(0);
    answers.forEach((response) => response.writeHead(200).end());
    await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
  });

  it("sends CloudEvents when asked", async () => {
    const created = await admin.fetch(
      POLICIES,
      json("POST", { name: "cloud", event_types: ["DELETE_ARTIFACT"], targets: [{ type: "http", address: receiver.url, payload_format: "CloudEvents" }] }),
    );
    const image = await admin.pushImage("library/gone", "v1");
    expect((await admin.fetch(`/v2/library/gone/manifests/${image.manifestDigest}`, { method: "DELETE" })).status).toBe(202);
    // Earlier tests' late deliveries may still arrive: pick the CloudEvent.
    const cloudEvent = () => receiver.received.find((r) => JSON.parse(r.body).specversion === "1.0");
    await waitUntil(() => cloudEvent() !== undefined, "the CloudEvent");
    const event = JSON.parse(cloudEvent()!.body);
    expect(event).toMatchObject({
      specversion: "1.0",
      type: "harbor.artifact.deleted",
      source: expect.stringMatching(/^\/projects\/\d+\/webhook\/policies\/\d+$/),
      datacontenttype: "application/json",
      operator: "admin",
      data: { resources: [{ digest: image.manifestDigest }], repository: { repo_full_name: "library/gone" } },
    });
    expect(cloudEvent()!.headers["x-berth-signature-256"]).toBeUndefined();
    await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
  });

  it("tells about a push refused by the quota (QUOTA_EXCEED) with the reason", async () => {
    const created = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "small", storage_limit: 1024 }));
    expect(created.status).toBe(201);
    await admin.fetch("/api/v2.0/projects/small/webhook/policies", json("POST", { name: "quota", event_types: ["QUOTA_EXCEED", "QUOTA_WARNING"], targets: [{ address: receiver.url }] }));
    await expect(admin.pushImage("small/app", "v1")).rejects.toThrow(/got 403/);
    const quotaEvent = () => receiver.payloads().find((p) => p.type === "QUOTA_EXCEED");
    await waitUntil(() => quotaEvent() !== undefined, "the QUOTA_EXCEED event");
    expect(quotaEvent()!.event_data).toMatchObject({
      repository: { repo_full_name: "small/app" },
      custom_attributes: { Details: expect.stringMatching(/exceed the configured upper limit of 1\.0 KiB/) },
    });
  });

  it.each([
    ["no targets", { name: "x", event_types: ["PUSH_ARTIFACT"], targets: [] }, /targets/],
    ["no event types", { name: "x", event_types: [], targets: [{ address: "http://127.0.0.1/" }] }, /event_types/],
    ["an unknown event type", { name: "x", event_types: ["PUSH_IMAGE"], targets: [{ address: "http://127.0.0.1/" }] }, /unknown event type "PUSH_IMAGE"/],
    ["a non-http address", { name: "x", event_types: ["PUSH_ARTIFACT"], targets: [{ address: "ftp://example.com/" }] }, /http:\/\/ or https:\/\//],
    ["a malformed address", { name: "x", event_types: ["PUSH_ARTIFACT"], targets: [{ address: "not a url" }] }, /not a URL/],
    ["a slack target", { name: "x", event_types: ["PUSH_ARTIFACT"], targets: [{ type: "slack", address: "https://hooks.slack.com/x" }] }, /slack/],
    ["an unknown payload format", { name: "x", event_types: ["PUSH_ARTIFACT"], targets: [{ address: "http://127.0.0.1/", payload_format: "XML" }] }, /payload_format/],
  ])("refuses %s with 400", async (_label, body, message) => {
    const response = await admin.fetch(POLICIES, json("POST", body));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(message);
  });

  it("refuses a duplicate name with 409, a developer with 403, anonymous callers with 401", async () => {
    const created = await admin.fetch(POLICIES, json("POST", policy(receiver.url, { name: "twice" })));
    expect((await admin.fetch(POLICIES, json("POST", policy(receiver.url, { name: "twice" })))).status).toBe(409);
    await admin.createUser("devon", "Devon-Passw0rd");
    await admin.addMember("library", "devon", 2);
    const devon = new RegistryClient(berth.url, basicAuth("devon", "Devon-Passw0rd"));
    expect((await devon.fetch(POLICIES)).status).toBe(403);
    expect((await fetch(`${berth.url}${POLICIES}`)).status).toBe(401);
    await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
  });
});

describe("webhooks across a restart", () => {
  it("delivers events that were pending when the registry stopped", async () => {
    const receiver = new Receiver();
    await receiver.start();
    let up = false;
    receiver.respond = (_count, response) => (up ? response.writeHead(200).end() : response.writeHead(503).end());
    const environment = await prepareEnvironment({ ...RECEIVERS_ON_LOOPBACK, BERTH_WEBHOOK_RETRY_BASE_MS: "200" });
    try {
      const first = await spawnBerth(environment.env);
      const admin = new RegistryClient(first.url, ADMIN_AUTH);
      await admin.fetch("/api/v2.0/projects/library/webhook/policies", json("POST", policy(receiver.url)));
      const image = await admin.pushImage("library/app", "pending");
      await waitUntil(() => receiver.received.length > 0, "a first, refused delivery");
      await first.kill("SIGTERM");

      up = true;
      const count = receiver.received.length;
      const second = await spawnBerth(environment.env);
      try {
        await waitUntil(() => receiver.received.length > count, "the delivery after the restart");
        expect(JSON.parse(receiver.received.at(-1)!.body).event_data.resources[0].digest).toBe(image.manifestDigest);
      } finally {
        await second.kill("SIGTERM");
      }
    } finally {
      await environment.cleanup();
      await receiver.close();
    }
  });
});

async function waitForExecutions(
  admin: RegistryClient,
  location: string,
  done: (executions: { id: number; status: string; metrics: Record<string, number> }[]) => boolean,
) {
  let executions: { id: number; status: string; metrics: Record<string, number> }[] = [];
  await waitUntil(async () => {
    executions = (await (await admin.fetch(`${location}/executions`)).json()) as typeof executions;
    return done(executions);
  }, "the webhook execution");
  return executions;
}
