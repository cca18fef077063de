import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DataDirLockedError, lockDataDir } from "../../registry/db/data-dir-lock";
import { testIf } from "../support/tools";

/** The pid of a process that has exited (and was reaped), so nothing answers to it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("lockDataDir", () => {
  let dir: string;
  const lockFile = () => path.join(dir, "berth.lock");
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-lock-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a second holder while the first lives, names it, and lets go on release", async () => {
    const lock = lockDataDir(dir, "serve");
    expect(JSON.parse(readFileSync(lockFile(), "utf8"))).toMatchObject({ pid: process.pid, command: "serve" });
    let refusal: unknown;
    try {
      lockDataDir(dir, "doctor");
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as DataDirLockedError).holder).toMatchObject({ pid: process.pid, command: "serve" });
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lockDataDir(dir, "doctor").release();
    // Nothing left behind: neither the draft nor a moved-aside file.
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes over the lock of a process that no longer exists", async () => {
    writeFileSync(lockFile(), JSON.stringify({ pid: await deadPid(), started: "1", command: "serve" }));
    const lock = lockDataDir(dir, "serve");
    expect(JSON.parse(readFileSync(lockFile(), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  // Start times come from /proc: elsewhere a live pid is always taken to be the holder. CI runs on Linux, so there
  // the test fails if /proc is missing rather than skipping.
  const onLinux = testIf(existsSync("/proc/self/stat"), "needs /proc for process start times");
  onLinux("takes over a lock whose pid now belongs to another process (a different start time)", async () => {
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      writeFileSync(lockFile(), JSON.stringify({ pid: other.pid, started: "1", command: "serve" }));
      const lock = lockDataDir(dir, "serve");
      expect(JSON.parse(readFileSync(lockFile(), "utf8")).pid).toBe(process.pid);
      lock.release();
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("treats a lock it cannot read as stale", async () => {
    writeFileSync(lockFile(), "not json");
    lockDataDir(dir, "serve").release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it("does not remove a lock another process took after its own", async () => {
    const lock = lockDataDir(dir, "serve");
    const successor = JSON.stringify({ pid: process.pid, started: "other", command: "serve" });
    writeFileSync(lockFile(), successor);
    lock.release();
    expect(readFileSync(lockFile(), "utf8")).toBe(successor);
  });
});
