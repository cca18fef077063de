import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { tlsOptions } from "../../registry/replication/remote-registry";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { findTool } from "./tools";
import { waitUntil } from "./wait";

export interface ReferenceRegistry {
  url: string;
  host: string;
  /** Stops serving (the upstream is down) and keeps the content for `resume`. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** A throwaway self-signed certificate for 127.0.0.1 (cert.pem, key.pem in `dir`), for an https upstream. */
export async function selfSignedCertificate(dir: string): Promise<void> {
  await promisify(execFile)("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
  ]);
}

/** A free TCP port on 127.0.0.1 (docker-registry cannot be told to pick one itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1 with its own temp storage and deletes enabled. */
export async function startReferenceRegistry(options: { tls?: boolean } = {}): Promise<ReferenceRegistry> {
  const binary = findTool("docker-registry");
  if (!binary) throw new Error("docker-registry is not installed (apt-get install docker-registry)");
  const dir = await mkdtemp(path.join(tmpdir(), "berth-reference-"));
  const port = await freePort();
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log: {level: warn, accesslog: {disabled: true}}",
      `storage: {filesystem: {rootdirectory: ${path.join(dir, "data")}}, delete: {enabled: true}, redirect: {disable: true}}`,
      options.tls
        ? `http: {addr: "127.0.0.1:${port}", tls: {certificate: ${path.join(dir, "cert.pem")}, key: ${path.join(dir, "key.pem")}}}`
        : `http: {addr: "127.0.0.1:${port}"}`,
      "",
    ].join("\n"),
  );
  if (options.tls) await selfSignedCertificate(dir);
  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);
  const serve = async () => {
    child = spawn(binary, ["serve", config], { stdio: "ignore" });
    await waitUntil(async () => (await fetch(`${url}/v2/`, tlsOptions(true)).catch(() => null))?.status === 200, "docker-registry to start");
  };
  const halt = async () => {
    if (!child) return;
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    child = null;
  };
  await serve();
  return {
    url,
    host: `127.0.0.1:${port}`,
    halt,
    resume: serve,
    stop: async () => {
      process.removeListener("exit", killOnExit);
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
