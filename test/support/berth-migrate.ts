import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const MAIN = path.join(__dirname, "..", "..", "dist", "registry", "main.js");

export interface MigrateResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface MigrateRun {
  child: ChildProcess;
  /** Settles when the process has exited, with everything it printed. */
  exited: Promise<MigrateResult>;
}

/** Starts the built `berth migrate` (dist/, from `npm run build`); the ChildProcess is handed back so a test can kill it mid-run. */
export function spawnMigrate(args: string[]): MigrateRun {
  const child = spawn(process.execPath, [MAIN, "migrate", ...args], { env: { ...process.env, NODE_OPTIONS: "" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  // A test that fails or times out before its kill must not leave a migrate running after the worker.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<MigrateResult>((resolve) =>
    child.once("close", (code, signal) => {
      process.removeListener("exit", killOnExit);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exited };
}
