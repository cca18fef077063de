import { createSocket } from "node:dgram";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

/**
 * Harbor's project_creation_restriction. Berth's default differs from Harbor's (everyone): while a policy source
 * manages the registry, projects come from policy files and only system admins may create others.
 */
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const PASSWORD = "Creator-Passw0rd";

describe("project_creation_restriction by default", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let user: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    await admin.createUser("creator", PASSWORD);
    user = new RegistryClient(berth.url, basicAuth("creator", PASSWORD));
  });
  afterAll(() => berth.close());

  const restriction = async () => ((await (await admin.fetch("/api/v2.0/configurations")).json()) as Record<string, unknown>).project_creation_restriction;

  it("is everyone (Harbor's default) while no policy source manages the registry", async () => {
    expect(await restriction()).toEqual({ value: "everyone", editable: true });
    expect((await user.fetch("/api/v2.0/projects", json("POST", { project_name: "mine" }))).status).toBe(201);
  });

  it("becomes adminonly once a policy source claims the registry", async () => {
    const lock = await admin.fetch("/api/v2.0/controller/lock", json("POST", { holder: "test", source: { repo: "/srv/policies" }, ttl_seconds: 5 }));
    expect(lock.status).toBe(200);
    expect(await restriction()).toEqual({ value: "adminonly", editable: true });
    const refused = await user.fetch("/api/v2.0/projects", json("POST", { project_name: "another" }));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/^user creator may not create /);
    expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "another" }))).status).toBe(201);
  });

  it("is in Harbor's systeminfo for logged-in callers, with the address a pull command names", async () => {
    const anonymous = await new RegistryClient(berth.url, null).fetch("/api/v2.0/systeminfo");
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ auth_mode: "db_auth", self_registration: false, harbor_version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const info = (await (await user.fetch("/api/v2.0/systeminfo")).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ external_url: berth.url, registry_url: berth.host, project_creation_restriction: "adminonly", read_only: false });
    expect(Date.parse(info.current_time as string)).not.toBeNaN();
  });

  it("is shown to system admins only", async () => {
    expect((await user.fetch("/api/v2.0/configurations")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/configurations")).status).toBe(401);
  });
});

describe("BERTH_PROJECT_CREATION_RESTRICTION", () => {
  it("adminonly refuses users even with no policy source", async () => {
    const berth = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: "adminonly" } });
    try {
      const admin = new RegistryClient(berth.url);
      await admin.createUser("creator", PASSWORD);
      const user = new RegistryClient(berth.url, basicAuth("creator", PASSWORD));
      expect((await user.fetch("/api/v2.0/projects", json("POST", { project_name: "mine" }))).status).toBe(403);
      expect(((await (await admin.fetch("/api/v2.0/configurations")).json()) as Record<string, unknown>).project_creation_restriction).toEqual({
        value: "adminonly",
        editable: false,
      });
    } finally {
      await berth.close();
    }
  });
});

const put = (client: RegistryClient, body: unknown) => client.fetch("/api/v2.0/configurations", json("PUT", body));
const configurations = async (client: RegistryClient) => (await (await client.fetch("/api/v2.0/configurations")).json()) as Record<string, { value: unknown; editable: boolean }>;
const errorOf = async (response: Response) => ((await response.json()) as { errors: { code: string; message: string }[] }).errors[0];

describe("PUT /configurations", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let user: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_ROBOT_TOKEN_DURATION: "5" } });
    admin = new RegistryClient(berth.url);
    await admin.createUser("creator", PASSWORD);
    user = new RegistryClient(berth.url, basicAuth("creator", PASSWORD));
  });
  afterAll(() => berth.close());

  it("shows every run-time setting in Harbor's shape, those fixed by a variable as not editable", async () => {
    expect(await configurations(admin)).toEqual({
      project_creation_restriction: { value: "everyone", editable: true },
      robot_token_duration: { value: 5, editable: false },
      read_only: { value: false, editable: true },
      audit_log_forward_endpoint: { value: "", editable: true },
      storage_per_project: { value: -1, editable: true },
      robot_name_prefix: { value: "robot$", editable: false },
      auth_mode: { value: "db_auth", editable: false },
    });
  });

  it("changes the keys it names, audited, for system admins only", async () => {
    expect((await put(user, { project_creation_restriction: "adminonly" })).status).toBe(403);
    expect((await put(admin, { project_creation_restriction: "adminonly", storage_per_project: 4096 })).status).toBe(200);
    expect(await configurations(admin)).toMatchObject({ project_creation_restriction: { value: "adminonly" }, storage_per_project: { value: 4096 } });
    expect((await user.fetch("/api/v2.0/projects", json("POST", { project_name: "refused" }))).status).toBe(403);
    const logs = (await (await admin.fetch("/api/v2.0/audit-logs?q=resource_type=configuration")).json()) as { operation: string; operation_description: string }[];
    expect(logs[0]).toMatchObject({ operation: "update", operation_description: "update configuration: project_creation_restriction, storage_per_project" });
  });

  it("gives new projects storage_per_project as their limit", async () => {
    await put(admin, { storage_per_project: 4096 });
    expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "limited" }))).status).toBe(201);
    const summary = (await (await admin.fetch("/api/v2.0/projects/limited/summary")).json()) as { quota: { hard: { storage: number } } };
    expect(summary.quota.hard.storage).toBe(4096);
  });

  it("refuses fixed keys, unknown keys and bad values with a clear 400, changing nothing", async () => {
    const cases: [unknown, RegExp][] = [
      [{ robot_token_duration: 9 }, /robot_token_duration is set by the environment \(BERTH_ROBOT_TOKEN_DURATION\)/],
      [{ robot_name_prefix: "bot_" }, /robot_name_prefix is fixed at robot\$ in Berth/],
      [{ auth_mode: "ldap_auth", ldap_url: "ldap://x" }, /auth_mode, ldap_url: the auth settings come from the environment/],
      [{ read_only: true, email_host: "smtp" }, /email_host is not a setting Berth has/],
      [{ read_only: "on" }, /read_only must be true or false/],
      [{ audit_log_forward_endpoint: "syslog.example" }, /audit_log_forward_endpoint must be "host:port"/],
      [[1], /request body must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const response = await put(admin, body);
      expect(response.status).toBe(400);
      expect((await errorOf(response)).message).toMatch(message);
    }
    expect((await configurations(admin)).read_only.value).toBe(false);
  });

  it("read_only refuses every write on /v2 and /api with 503 while reads go on, and can be turned off", async () => {
    await admin.pushImage("limited/app", "v1");
    expect((await put(admin, { read_only: true })).status).toBe(200);
    try {
      const push = await admin.fetch("/v2/limited/app/blobs/uploads/", { method: "POST" });
      expect(push.status).toBe(503);
      expect(await errorOf(push)).toEqual({ code: "UNAVAILABLE", message: expect.stringMatching(/read-only mode/) });
      const create = await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "during" }));
      expect(create.status).toBe(503);
      expect(await errorOf(create)).toEqual({ code: "SERVICE_UNAVAILABLE", message: expect.stringMatching(/read-only mode for maintenance/) });
      expect((await admin.fetch("/api/v2.0/projects/limited/repositories/app/artifacts/v1", { method: "DELETE" })).status).toBe(503);
      expect((await admin.fetch("/v2/limited/app/manifests/v1")).status).toBe(200);
      expect((await admin.fetch("/api/v2.0/projects/limited/repositories/app/artifacts")).status).toBe(200);
      expect((await (await user.fetch("/api/v2.0/systeminfo")).json()) as object).toMatchObject({ read_only: true });
      // The switch itself stays reachable, for admins only.
      expect((await put(user, { read_only: false })).status).toBe(403);
    } finally {
      expect((await put(admin, { read_only: false })).status).toBe(200);
    }
    expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "after" }))).status).toBe(201);
  });

  it("robots created without a duration live robot_token_duration days", async () => {
    const robot = await admin.createRobot({ name: "ci", level: "system", permissions: [{ kind: "project", namespace: "*", access: [{ resource: "repository", action: "pull" }] }] });
    const shown = (await (await admin.fetch(`/api/v2.0/robots/${robot.id}`)).json()) as { duration: number };
    expect(shown.duration).toBe(5);
  });
});

describe("audit_log_forward_endpoint", () => {
  it("sends each audit record as an RFC 5424 syslog line over UDP, to receivers the outbound guard allows", async () => {
    const receiver = createSocket("udp4");
    receiver.bind(0, "127.0.0.1");
    await once(receiver, "listening");
    const lines: string[] = [];
    receiver.on("message", (message) => lines.push(message.toString()));
    const port = (receiver.address() as AddressInfo).port;
    const berth = await startBerth({ env: RECEIVERS_ON_LOOPBACK });
    try {
      const admin = new RegistryClient(berth.url);
      expect((await put(admin, { audit_log_forward_endpoint: `udp://127.0.0.1:${port}` })).status).toBe(200);
      expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "forwarded" }))).status).toBe(201);
      await waitUntil(() => lines.some((line) => line.includes('"resource":"forwarded"')), "the syslog line of the project creation");
      const line = lines.find((l) => l.includes('"resource":"forwarded"'))!;
      expect(line).toMatch(/^<110>1 \d{4}-\d\d-\d\dT[^ ]+ \S+ berth - audit - \{/);
      expect(JSON.parse(line.slice(line.indexOf("{")))).toMatchObject({ username: "admin", operation: "create", resource_type: "project", operation_result: true });
    } finally {
      await berth.close();
      receiver.close();
    }
  });

  it("is an outbound destination: a loopback receiver is refused by default", async () => {
    const receiver = createSocket("udp4");
    receiver.bind(0, "127.0.0.1");
    await once(receiver, "listening");
    let received = 0;
    receiver.on("message", () => (received += 1));
    const berth = await startBerth();
    try {
      const admin = new RegistryClient(berth.url);
      await put(admin, { audit_log_forward_endpoint: `udp://127.0.0.1:${(receiver.address() as AddressInfo).port}` });
      expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "kept" }))).status).toBe(201);
      // The record is in the database whatever happens to its forwarding.
      const logs = (await (await admin.fetch("/api/v2.0/audit-logs?q=resource=kept")).json()) as unknown[];
      expect(logs).toHaveLength(1);
      expect(received).toBe(0);
    } finally {
      await berth.close();
      receiver.close();
    }
  });
});
