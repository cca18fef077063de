import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../registry/config";
import type { Resolver } from "../../registry/outbound/address-guard";
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
  /** Where GET /metrics answers (its own ephemeral port); unset with BERTH_METRICS_ADDR=off. */
  metricsUrl?: string;
  /** Where the registry mirror answers (BERTH_MIRROR_ADDR); unset without one. */
  mirrorUrl?: string;
  dataDir: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

/**
 * For servers whose webhooks, registry endpoints or proxy caches point at test receivers on 127.0.0.1, which the
 * outbound guard refuses by default (tests of the guard itself leave this out).
 */
export const RECEIVERS_ON_LOOPBACK = { BERTH_OUTBOUND_ALLOW: "127.0.0.0/8" };

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
    // Metrics on an ephemeral port too: servers of parallel suites (and two nodes of one test) must not collide on 9090.
    BERTH_METRICS_ADDR: "127.0.0.1:0",
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
export async function startBerth(options: { env?: Record<string, string>; resolve?: Resolver } = {}): Promise<TestBerth> {
  const { env, dataDir, databaseUrl, cleanup } = await testEnvironment(options.env ?? {});
  const server = await startServer(loadConfig(env), { resolve: options.resolve });
  return {
    url: server.url,
    host: new URL(server.url).host,
    metricsUrl: server.metricsUrl,
    mirrorUrl: server.mirrorUrl,
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
  /** From the "berth is ready" line; unset with BERTH_METRICS_ADDR=off. */
  metricsUrl?: string;
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
    env: { ...process.env, NODE_OPTIONS: "", BERTH_METRICS_ADDR: "127.0.0.1:0", ...env, BERTH_LOG_LEVEL: VERBOSE_LEVELS.has(env.BERTH_LOG_LEVEL) ? env.BERTH_LOG_LEVEL : "info" },
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
  const { url, metricsUrl } = await new Promise<{ url: string; metricsUrl?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start:\n${output}`)), 60_000);
    const onData = () => {
      const match = /"url":"(https?:\/\/[^"]+)"[^\n]*berth is ready/.exec(output);
      if (match) {
        clearTimeout(timer);
        const metrics = /"metricsUrl":"(http:\/\/[^"]+)"[^\n]*berth is ready/.exec(output);
        resolve({ url: match[1], metricsUrl: metrics?.[1] });
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
    metricsUrl,
    output: () => output,
    kill: async (signal) => {
      child.kill(signal);
      await exited;
    },
  };
}

/** A data dir and database for spawned servers, kept across restarts until `cleanup`. */
export const prepareEnvironment = testEnvironment;
