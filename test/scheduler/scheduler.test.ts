import { migrate } from "../../registry/db/migrate";
import type { Sql } from "../../registry/db/sql";
import { Scheduler, type JobContext } from "../../registry/scheduler/scheduler";
import { twoNodeSetups, type Nodes } from "../support/database";
import { waitUntil } from "../support/wait";

const setups = twoNodeSetups();

const FAST = { heartbeatMs: 100, syncMs: 200 };

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

describe.each(setups)("scheduler (%s)", (_name, open) => {
  let nodes: Nodes;
  let schedulers: Scheduler[] = [];
  const node = (sql: Sql) => {
    const scheduler = new Scheduler(sql, FAST);
    schedulers.push(scheduler);
    return scheduler;
  };

  beforeAll(async () => {
    nodes = await open();
    await migrate(nodes.a);
  });
  afterEach(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    schedulers = [];
  });
  afterAll(() => nodes.cleanup());

  it("runs a job by hand and records its outcome, metrics and log", async () => {
    const scheduler = node(nodes.a);
    scheduler.registerJob("GC", async (job) => {
      await job.log("deleting nothing");
      return { message: "freed 0 bytes", metrics: { freed: 0 } };
    });
    await scheduler.start();
    const id = await scheduler.run("GC", 0, "MANUAL", { dry_run: true });
    await scheduler.settled(id);
    expect(await scheduler.executions.get(id)).toMatchObject({
      status: "Success",
      status_message: "freed 0 bytes",
      trigger: "MANUAL",
      extra_attrs: { dry_run: true },
      metrics: { freed: 0 },
    });
    expect(await scheduler.executions.log(id)).toMatch(/^\S+Z deleting nothing\n$/);
  });

  it("records a failing job as Error with its message", async () => {
    const scheduler = node(nodes.a);
    scheduler.registerJob("BROKEN", async () => {
      throw new Error("disk on fire");
    });
    await scheduler.start();
    const id = await scheduler.run("BROKEN", 1, "MANUAL");
    await scheduler.settled(id);
    expect(await scheduler.executions.get(id)).toMatchObject({ status: "Error", status_message: "disk on fire" });
  });

  it("runs each scheduled tick exactly once across two nodes", async () => {
    const calls = { a: 0, b: 0 };
    const job = (who: "a" | "b") => async () => {
      calls[who] += 1;
    };
    const [first, second] = [node(nodes.a), node(nodes.b)];
    first.registerJob("TICK", job("a"));
    second.registerJob("TICK", job("b"));
    await Promise.all([first.start(), second.start()]);
    await first.setSchedule("TICK", 7, "* * * * * *"); // every second; the second node learns it by syncing
    const count = async () => (await first.executions.list("TICK", 7, 100, 0)).total;
    await waitUntil(async () => (await count()) >= 4, "four scheduled runs");
    await first.setSchedule("TICK", 7, null);
    await Promise.all([first.stop(), second.stop()]);

    const executions = await count();
    const ticks = await nodes.a.query<{ n: number }>("SELECT count(*)::int AS n FROM schedule_ticks WHERE key LIKE 'berth:TICK/7:%'");
    expect(ticks[0].n).toBe(executions);
    expect(calls.a + calls.b).toBe(executions);
  });

  it("stops an execution on request made on another node", async () => {
    const [runner, other] = [node(nodes.a), node(nodes.b)];
    runner.registerJob("LONG", async (job: JobContext) => {
      await job.log("waiting to be stopped");
      await aborted(job.signal);
    });
    await Promise.all([runner.start(), other.start()]);
    const id = await runner.run("LONG", 2, "MANUAL");
    expect(await other.requestStop(id)).toBe(true);
    await runner.settled(id);
    expect(await runner.executions.get(id)).toMatchObject({ status: "Stopped" });
    expect(await other.requestStop(id)).toBe(false);
  });

  it("marks a run whose node died as failed once its lease lapses", async () => {
    const scheduler = node(nodes.a);
    const orphan = await scheduler.executions.start("GC", 0, "SCHEDULE", {});
    // The node that started it is gone: nobody renews the lease, which we let lapse.
    await nodes.a.query("UPDATE executions SET lease_until = now() - interval '1 second' WHERE id = $1", [orphan]);
    await scheduler.start();
    expect(await scheduler.executions.get(orphan)).toMatchObject({ status: "Error", status_message: expect.stringMatching(/interrupted/) });
  });
});
