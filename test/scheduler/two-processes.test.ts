import { spawn } from "node:child_process";
import path from "node:path";
import { migrate } from "../../registry/db/migrate";
import { PgSql } from "../../registry/db/pg";
import { createTestDatabase, describeWithPostgres, testPostgresUrl } from "../support/database";

const SCHEDULER = path.join(__dirname, "..", "..", "dist", "registry", "scheduler", "scheduler.js");
const PG = path.join(__dirname, "..", "..", "dist", "registry", "db", "pg.js");

// Each process is a node that schedules the same every-second job on the shared database for a few seconds, then
// stops. The job records which process ran it.
const NODE_SCRIPT = `
const { Scheduler } = require(${JSON.stringify(SCHEDULER)});
const { PgSql } = require(${JSON.stringify(PG)});
(async () => {
  const sql = new PgSql(process.env.DATABASE_URL);
  const scheduler = new Scheduler(sql, { heartbeatMs: 200, syncMs: 200 });
  scheduler.registerJob("TICK", async (job) => { await job.log("ran on " + process.env.NODE_NAME); });
  await scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.RUN_MS)));
  await scheduler.stop();
  await sql.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

function runNode(name: string, databaseUrl: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", NODE_SCRIPT], {
      env: { ...process.env, NODE_OPTIONS: "", DATABASE_URL: databaseUrl, NODE_NAME: name, RUN_MS: String(ms) },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}`))));
  });
}

const serverUrl = testPostgresUrl();
describeWithPostgres("scheduler on two processes", () => {
  it("runs every scheduled tick exactly once", async () => {
    const database = await createTestDatabase(serverUrl!);
    const sql = new PgSql(database.url);
    try {
      await migrate(sql);
      await sql.query("INSERT INTO schedules (vendor_type, vendor_id, cron) VALUES ('TICK', 1, '* * * * * *')");
      await Promise.all([runNode("a", database.url, 4000), runNode("b", database.url, 4000)]);
      const [{ ticks }] = await sql.query<{ ticks: number }>("SELECT count(*)::int AS ticks FROM schedule_ticks");
      const runs = await sql.query<{ line: string }>("SELECT line FROM execution_logs ORDER BY id");
      const [{ executions }] = await sql.query<{ executions: number }>("SELECT count(*)::int AS executions FROM executions WHERE vendor_type = 'TICK'");
      expect(ticks).toBeGreaterThanOrEqual(2);
      expect(executions).toBe(ticks);
      // One job run per claimed tick, whichever process claimed it: none ran twice.
      expect(runs).toHaveLength(ticks);
    } finally {
      await sql.close();
      await database.drop();
    }
  });
});
