import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

interface AuditRecord {
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  operation_result: boolean;
  operation_description: string;
  change_ref: string | null;
  client_ip: string;
}

let berth: TestBerth;
let admin: RegistryClient;
const COMMIT = "3f2a9c1 by alice@example.com";

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
});
afterAll(() => berth.close());

async function logs(client: RegistryClient, path: string): Promise<AuditRecord[]> {
  const response = await client.fetch(path);
  expect(response.status).toBe(200);
  return (await response.json()) as AuditRecord[];
}

describe("audit log", () => {
  it("records a project creation with who did it and the change reference it carried", async () => {
    const response = await admin.fetch("/api/v2.0/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Berth-Change-Ref": COMMIT },
      body: JSON.stringify({ project_name: "audited", metadata: { public: "false" } }),
    });
    expect(response.status).toBe(201);
    const [record] = await logs(admin, "/api/v2.0/audit-logs?q=operation=create,resource_type=project,resource=audited");
    expect(record).toMatchObject({ username: "admin", resource: "audited", operation: "create", operation_result: true, change_ref: COMMIT });
    expect(record!.client_ip).not.toBe("");
  });

  it("records pushes and tag deletes on /v2, and pulls within a few seconds", async () => {
    const image = await admin.pushImage("audited/app", "v1");
    await admin.fetch("/v2/audited/app/manifests/v1");
    await admin.fetch("/v2/audited/app/manifests/v1");
    expect((await admin.fetch("/v2/audited/app/manifests/v1", { method: "DELETE" })).status).toBe(202);
    const records = await logs(admin, "/api/v2.0/projects/audited/logs");
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: "create", resource_type: "artifact", resource: `audited/app@${image.manifestDigest}` }),
        expect.objectContaining({ operation: "delete", resource_type: "tag", resource: "audited/app:v1" }),
      ]),
    );
    // Identical pulls within a second are one record that counts them.
    await waitUntil(async () => (await logs(admin, "/api/v2.0/projects/audited/logs?q=operation=pull")).length === 1, "the pull record is written");
    const [pull] = await logs(admin, "/api/v2.0/projects/audited/logs?q=operation=pull");
    expect(pull!.operation_description).toBe(`pull artifact: audited/app@${image.manifestDigest} (2 times)`);
  });

  it("writes nothing for a change that failed", async () => {
    const bad = await admin.fetch("/v2/audited/broken/manifests/v1", {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 1 },
        layers: [],
      }),
    });
    expect(bad.status).toBe(404);
    expect(await logs(admin, "/api/v2.0/audit-logs?q=resource=~audited/broken")).toEqual([]);
  });

  it("records refused /api writes as failed operations, visible to system admins only", async () => {
    await admin.createUser("mallory", "Mallory-Passw0rd");
    const mallory = new RegistryClient(berth.url, basicAuth("mallory", "Mallory-Passw0rd"));
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await mallory.fetch("/api/v2.0/projects/audited/members", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ role_id: 1, username: "mallory" }),
      });
      expect(refused.status).toBe(403);
    }
    // Identical refusals within one batch become one record "(N times)"; a batch boundary may split them.
    const attempts = (record: AuditRecord) => Number(/\((\d+) times\)$/.exec(record.operation_description)?.[1] ?? 1);
    let records: AuditRecord[] = [];
    await waitUntil(async () => {
      records = await logs(admin, "/api/v2.0/audit-logs?q=username=mallory,resource_type=member");
      return records.reduce((sum, record) => sum + attempts(record), 0) === 3;
    }, "three refused member additions in the audit log");
    for (const record of records) {
      expect(record).toMatchObject({ operation: "create", operation_result: false, resource: "/projects/audited/members" });
      expect(record.operation_description).toMatch(/^create member refused with 403: POST \/projects\/audited\/members( \(\d times\))?$/);
    }
    const projectLog = await logs(admin, "/api/v2.0/projects/audited/logs?q=username=mallory");
    expect(projectLog).toEqual([]);
  });

  it("filters with q= (fuzzy, lists, time ranges) and pages with X-Total-Count", async () => {
    expect((await logs(admin, "/api/v2.0/audit-logs?q=resource=~udite")).length).toBeGreaterThan(2);
    expect((await logs(admin, "/api/v2.0/audit-logs?q=operation={delete pull}")).every((r) => ["delete", "pull"].includes(r.operation))).toBe(true);
    expect(await logs(admin, "/api/v2.0/audit-logs?q=op_time=[2000-01-01T00:00:00~2000-01-02T00:00:00]")).toEqual([]);
    const page = await admin.fetch("/api/v2.0/audit-logs?page=1&page_size=1");
    expect(((await page.json()) as unknown[]).length).toBe(1);
    expect(Number(page.headers.get("x-total-count"))).toBeGreaterThan(1);
    expect((await admin.fetch("/api/v2.0/audit-logs?q=operation")).status).toBe(400);
  });

  it("shows a project's log only to its admins; other users see only their own projects' records", async () => {
    await admin.createUser("auditor", "Auditor-Passw0rd");
    await admin.addMember("audited", "auditor", 2);
    const developer = new RegistryClient(berth.url, basicAuth("auditor", "Auditor-Passw0rd"));
    expect((await developer.fetch("/api/v2.0/projects/audited/logs")).status).toBe(403);
    expect(await logs(developer, "/api/v2.0/audit-logs")).toEqual([]);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/audit-logs")).status).toBe(401);
    const own = new RegistryClient(berth.url, basicAuth("auditor", "Auditor-Passw0rd"));
    await own.createProject("auditor-own", { public: false });
    const records = await logs(own, "/api/v2.0/audit-logs");
    expect(records.map((r) => r.resource)).toEqual(["auditor-own"]);
  });

  it("records membership changes", async () => {
    const records = await logs(admin, "/api/v2.0/projects/audited/logs?q=resource_type=member");
    expect(records).toEqual([expect.objectContaining({ operation: "create", username: "admin" })]);
  });
});
