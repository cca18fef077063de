import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** The built command-line programs (dist/, from `npm run build`). */
const PROGRAMS = {
  berth: path.join(__dirname, "..", "..", "dist", "registry", "main.js"),
  "berth-controller": path.join(__dirname, "..", "..", "dist", "controller", "main.js"),
  /** The container image's HEALTHCHECK command. */
  healthcheck: path.join(__dirname, "..", "..", "dist", "registry", "ops", "healthcheck.js"),
};

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Settles when the process has exited, with everything it printed. */
  exited: Promise<CliResult>;
}

/**
 * Starts `berth` or `berth-controller` with `args`, the test's environment plus `env`; the ChildProcess is handed
 * back so a test can kill it mid-run.
 */
export function spawnCli(program: keyof typeof PROGRAMS, args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [PROGRAMS[program], ...args], { env: { ...process.env, NODE_OPTIONS: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  // A test that fails or times out before its kill must not leave the process running after the worker.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<CliResult>((resolve) =>
    child.once("close", (code, signal) => {
      process.removeListener("exit", killOnExit);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exited };
}

/** Runs a program to its end. */
export function runCli(program: keyof typeof PROGRAMS, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return spawnCli(program, args, env).exited;
}
