import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../registry/config";
import { newSecretKeyText } from "../../registry/secrets/secret-key";
import { startServer } from "../../registry/server";
import { createTestDatabase, testPostgresUrl } from "./database";

export const ADMIN_PASSWORD = "Berth-Admin-12345";
export const ADMIN_CREDS = `admin:${ADMIN_PASSWORD}`;
export const ADMIN_AUTH = `Basic ${Buffer.from(ADMIN_CREDS).toString("base64")}`;

export interface TestBerth {
  url: string;
  /** host:port, for docker:// references */
  host: string;
  dataDir: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

/**
 * The environment a test Berth runs with: its own temp data dir and database, admin password fixed, and a secret key
 * file every node started with this environment shares (as nodes sharing a database must).
 */
async function testEnvironment(extra: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "berth-test-"));
  const secretKeyFile = path.join(dataDir, "shared-secretkey");
  await writeFile(secretKeyFile, newSecretKeyText(), { mode: 0o600 });
  const serverUrl = testPostgresUrl();
  const database = serverUrl ? await createTestDatabase(serverUrl) : undefined;
  const env: Record<string, string> = {
    BERTH_ADDR: "127.0.0.1:0",
    BERTH_DATA_DIR: dataDir,
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BERTH_LOG_LEVEL: "warn",
    BERTH_SECRET_KEY_FILE: secretKeyFile,
    // The embedded controller would reconcile the example policies into every test server; its own test turns it on.
    BERTH_CONTROLLER_REPO: "off",
    ...(database ? { BERTH_DATABASE_URL: database.url } : {}),
    ...extra,
  };
  const cleanup = async () => {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { env, dataDir, databaseUrl: database?.url, cleanup };
}

/** Starts Berth in this process on an ephemeral port. */
export async function startBerth(options: { env?: Record<string, string> } = {}): Promise<TestBerth> {
  const { env, dataDir, databaseUrl, cleanup } = await testEnvironment(options.env ?? {});
  const server = await startServer(loadConfig(env));
  return {
    url: server.url,
    host: new URL(server.url).host,
    dataDir,
    databaseUrl,
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
}

export interface BerthProcess {
  child: ChildProcess;
  url: string;
  host: string;
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

const VERBOSE_LEVELS = new Set(["info", "debug", "trace"]);
const MAIN = path.join(__dirname, "..", "..", "dist", "registry", "main.js");

/**
 * Runs the built `berth serve` (dist/, from `npm run build`) as a child process, for crash and restart tests, or
 * `command` when given (the same server started another way, e.g. inside a container image's root filesystem).
 */
export async function spawnBerth(env: Record<string, string>, command: string[] = [process.execPath, MAIN, "serve"]): Promise<BerthProcess> {
  const child = spawn(command[0], command.slice(1), {
    // Readiness is read from the "berth is ready" line, so the level must be at least info.
    env: { ...process.env, NODE_OPTIONS: "", ...env, BERTH_LOG_LEVEL: VERBOSE_LEVELS.has(env.BERTH_LOG_LEVEL) ? env.BERTH_LOG_LEVEL : "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  // A test that times out never reaches its kill(): make sure the server dies with the test worker.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.removeListener("exit", killOnExit);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start:\n${output}`)), 60_000);
    const onData = () => {
      const match = /"url":"(https?:\/\/[^"]+)"[^\n]*berth is ready/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    host: new URL(url).host,
    output: () => output,
    kill: async (signal) => {
      child.kill(signal);
      await exited;
    },
  };
}

/** A data dir and database for spawned servers, kept across restarts until `cleanup`. */
export const prepareEnvironment = testEnvironment;
