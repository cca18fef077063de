/**
 * PGlite runs PostgreSQL as WebAssembly in whichever thread calls it. Berth runs it in a worker thread, so that a long
 * statement (a 4 MB manifest with thousands of references) does not stop every other request (security finding 7).
 */
import type { PgliteSql } from "../../registry/db/pglite";
import { openTestPglite } from "../support/database";

let sql: PgliteSql;
beforeAll(async () => {
  sql = await openTestPglite();
});
afterAll(() => sql?.close());

it("keeps the event loop turning while a statement runs", async () => {
  // Counted, not timed: in the main thread a 300 ms statement lets no timer fire at all; in a worker, dozens do.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await sql.query("SELECT pg_sleep(0.3)");
  } finally {
    clearInterval(timer);
  }
  expect(ticks).toBeGreaterThanOrEqual(5);
});

it("keeps a transaction's statements together while the thread serves it", async () => {
  const seen: string[] = [];
  const tx = sql.transaction(async (t) => {
    await t.query("CREATE TEMP TABLE thread_probe (v text)");
    await t.query("SELECT pg_sleep(0.1)");
    await t.query("INSERT INTO thread_probe VALUES ('in')");
    seen.push("tx");
  });
  const outside = sql.query("SELECT 1").then(() => seen.push("outside"));
  await Promise.all([tx, outside]);
  expect(seen).toEqual(["tx", "outside"]);
  expect(await sql.query("SELECT v FROM thread_probe")).toEqual([{ v: "in" }]);
});

it("refuses statements once closed, with an error that says so", async () => {
  const other = await openTestPglite();
  await other.close();
  await expect(other.query("SELECT 1")).rejects.toThrow("the embedded database is closed");
});

it("refuses a parameter that cannot reach the thread, and goes on serving", async () => {
  await expect(sql.query("SELECT $1::text AS v", [() => "a function"])).rejects.toThrow(/could not be cloned/);
  expect(await sql.query("SELECT $1::text AS v", ["still here"])).toEqual([{ v: "still here" }]);
});
