import { PgSql } from "../../../registry/db/pg";
import { startBerth, type TestBerth } from "../../support/berth";
import { describeWithPostgres } from "../../support/database";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

/** /system/purgeaudit (Harbor's audit log purge on the scheduler) and /auditlog-exts. */
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
interface Run {
  id: number;
  job_name: string;
  job_kind: string;
  job_status: string;
  job_parameters: string;
  status_message: string;
}

describeWithPostgres("audit log purge", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let sql: PgSql;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_AUDIT_RETENTION_DAYS: "30" } });
    admin = new RegistryClient(berth.url);
    sql = new PgSql(berth.databaseUrl!);
  });
  afterAll(async () => {
    await sql.close();
    await berth.close();
  });

  /** Audit records of the given type written `hours` ago. */
  const oldRecords = (operation: string, resourceType: string, hours: number, count: number) =>
    sql.query(
      `INSERT INTO audit_logs (project_id, operation, resource_type, resource, description, result, username, client_ip, op_time)
       SELECT NULL, $1, $2, 'old-' || n, 'old', true, 'admin', '127.0.0.1', now() - make_interval(hours => $3) FROM generate_series(1, $4) AS n`,
      [operation, resourceType, hours, count],
    );
  const countOld = async () => (await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_logs WHERE description = 'old'"))[0].n;
  const run = async (parameters: Record<string, unknown>): Promise<Run> => {
    const started = await admin.fetch("/api/v2.0/system/purgeaudit/schedule", json("POST", { schedule: { type: "Manual" }, parameters }));
    expect(started.status).toBe(201);
    const location = started.headers.get("location")!;
    let done: Run | undefined;
    await waitUntil(async () => {
      done = (await (await admin.fetch(location)).json()) as Run;
      return done.job_status !== "Running";
    }, "the purge to end");
    return done!;
  };

  it("keeps BERTH_AUDIT_RETENTION_DAYS as the default schedule: hourly, that many days", async () => {
    const schedule = (await (await admin.fetch("/api/v2.0/system/purgeaudit/schedule")).json()) as { schedule: { type: string }; job_parameters: string };
    expect(schedule.schedule.type).toBe("Hourly");
    expect(JSON.parse(schedule.job_parameters)).toEqual({ audit_retention_hour: 720, include_event_types: "", dry_run: false });
  });

  it("dry-runs, then purges only the records older than the retention and of the listed event types", async () => {
    await oldRecords("create", "project", 48, 3);
    await oldRecords("pull", "artifact", 48, 2);
    await oldRecords("delete", "project", 1, 1);
    const dry = await run({ audit_retention_hour: 24, include_event_types: "create_project,pull_artifact", dry_run: true });
    expect(dry).toMatchObject({ job_name: "PURGE_AUDIT", job_kind: "MANUAL", job_status: "Success", status_message: expect.stringMatching(/^would purge 5 audit record/) });
    expect(await countOld()).toBe(6);
    const real = await run({ audit_retention_hour: 24, include_event_types: "Create_Project" });
    expect(real.status_message).toMatch(/^purged 3 audit record\(s\) older than 24 hour\(s\) of types create_project/);
    expect(await countOld()).toBe(3);
    expect(await (await admin.fetch(`/api/v2.0/system/purgeaudit/${real.id}/log`)).text()).toMatch(/purged 3 record/);
    const history = (await (await admin.fetch("/api/v2.0/system/purgeaudit")).json()) as Run[];
    expect(history.map((r) => r.id)).toEqual([real.id, dry.id]);
    await run({ audit_retention_hour: 24 });
    expect(await countOld()).toBe(1);
  });

  it("sets and clears the schedule, refusing bad parameters with 400", async () => {
    const set = await admin.fetch("/api/v2.0/system/purgeaudit/schedule", json("PUT", { schedule: { type: "Daily" }, parameters: { audit_retention_hour: 168, include_event_types: "pull_artifact" } }));
    expect(set.status).toBe(200);
    const schedule = (await (await admin.fetch("/api/v2.0/system/purgeaudit/schedule")).json()) as { schedule: { type: string }; job_parameters: string };
    expect(schedule.schedule.type).toBe("Daily");
    expect(JSON.parse(schedule.job_parameters)).toEqual({ audit_retention_hour: 168, include_event_types: "pull_artifact", dry_run: false });
    for (const parameters of [{}, { audit_retention_hour: 0 }, { audit_retention_hour: 24, include_event_types: "eat_cake" }, { audit_retention_hour: 24, dry_run: "yes" }]) {
      expect((await admin.fetch("/api/v2.0/system/purgeaudit/schedule", json("PUT", { schedule: { type: "Daily" }, parameters }))).status).toBe(400);
    }
    expect((await admin.fetch("/api/v2.0/system/purgeaudit/schedule", json("PUT", { schedule: { type: "None" } }))).status).toBe(200);
    expect(((await (await admin.fetch("/api/v2.0/system/purgeaudit/schedule")).json()) as { schedule: { type: string } }).schedule.type).toBe("None");
    expect((await admin.fetch("/api/v2.0/system/purgeaudit/999999")).status).toBe(404);
    expect((await admin.fetch("/api/v2.0/system/purgeaudit/abc")).status).toBe(400);
  });

  it("lists Harbor's event types and serves the records under /auditlog-exts too", async () => {
    const events = (await (await admin.fetch("/api/v2.0/auditlog-exts/events")).json()) as { event_type: string }[];
    expect(events).toEqual(expect.arrayContaining([{ event_type: "create_artifact" }, { event_type: "pull_artifact" }, { event_type: "delete_project" }]));
    expect(events).not.toContainEqual({ event_type: "pull_project" });
    await admin.createProject("logged", { public: false });
    const all = (await (await admin.fetch("/api/v2.0/auditlog-exts?q=resource=logged")).json()) as { resource: string; operation: string }[];
    expect(all).toEqual([expect.objectContaining({ resource: "logged", operation: "create", operation_result: true })]);
    const mine = (await (await admin.fetch("/api/v2.0/projects/logged/auditlog-exts")).json()) as unknown[];
    expect(mine).toHaveLength(1);
  });

  it("is for system admins", async () => {
    await admin.createUser("someone", "Someone-Passw0rd");
    const someone = new RegistryClient(berth.url, basicAuth("someone", "Someone-Passw0rd"));
    expect((await someone.fetch("/api/v2.0/system/purgeaudit")).status).toBe(403);
    expect((await someone.fetch("/api/v2.0/system/purgeaudit/schedule", json("POST", { schedule: { type: "Manual" }, parameters: { audit_retention_hour: 1 } }))).status).toBe(403);
    expect((await someone.fetch("/api/v2.0/auditlog-exts/events")).status).toBe(403);
  });
});
