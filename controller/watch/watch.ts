import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import path from "node:path";
import { validate as validCron } from "node-cron";
import { ApiClient } from "../api-client";
import { GitSource, redactRepo } from "./source";
import { Watcher } from "./watcher";

/** `/healthz` (the process runs), `/readyz` (the last run could read the files and reach the registry), `/metrics`. */
export function healthServer(watcher: Watcher): Server {
  return createServer((request, response) => {
    const url = request.url ?? "/";
    if (url === "/healthz") return void response.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
    if (url === "/readyz") {
      const ready = watcher.status.revision !== null && watcher.status.lastError === null;
      return void response.writeHead(ready ? 200 : 503, { "Content-Type": "application/json" }).end(`${JSON.stringify(watcher.status)}\n`);
    }
    if (url === "/metrics") {
      void watcher.metrics.metrics().then((text) => response.writeHead(200, { "Content-Type": watcher.metrics.contentType }).end(text));
      return;
    }
    response.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set for watch`);
  return value;
}

/** `berth-controller watch`: runs until SIGTERM or SIGINT. */
export async function watch(options: { takeOver: boolean }): Promise<number> {
  const repo = required("BERTH_CONTROLLER_REPO");
  const schedule = process.env.BERTH_CONTROLLER_SCHEDULE || "*/5 * * * *";
  if (!validCron(schedule)) throw new Error(`BERTH_CONTROLLER_SCHEDULE: "${schedule}" is not a cron expression`);
  const user = required("BERTH_REGISTRY_USER");
  const client = new ApiClient({ url: required("BERTH_REGISTRY_URL"), username: user, password: required("BERTH_REGISTRY_PASSWORD") });
  const workDir = process.env.BERTH_CONTROLLER_WORKDIR || path.resolve(process.env.BERTH_DATA_DIR || "./data", "controller", "repo");
  const log = (level: string, message: string) => process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message })}\n`);
  const branch = process.env.BERTH_CONTROLLER_BRANCH || undefined;
  const watcher = new Watcher({
    name: `${hostname()} (berth-controller watch)`,
    source: new GitSource(repo, branch, workDir),
    takeOver: options.takeOver,
    client,
    user,
    schedule,
    pollMs: Number(process.env.BERTH_CONTROLLER_POLL_SECONDS || 30) * 1000,
    log,
  });
  const [host, port] = (process.env.BERTH_CONTROLLER_ADDR || "127.0.0.1:5100").split(/:(?=\d+$)/);
  const server = healthServer(watcher);
  await new Promise<void>((resolve) => server.listen(Number(port), host, resolve));
  const address = server.address() as { port: number };
  log("info", `watching ${redactRepo(repo)} (branch ${branch ?? "the repository's default"}), drift schedule "${schedule}", health on http://${host}:${address.port}`);
  await watcher.start();
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await watcher.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}
