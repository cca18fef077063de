/**
 * The driver of bench/soak.sh (compiled there with the project's tsc; read bench/README.md): two `berth serve`
 * processes on one PostgreSQL database and one s3rver bucket, behind the round-robin TCP proxy the two-node test uses,
 * under skopeo pushes, skopeo pulls and wrk on a manifest for SOAK_SECONDS, while one node at a time is SIGKILLed and
 * restarted on the same port every SOAK_KILL_EVERY seconds. At the end every acknowledged push is read back and
 * hashed, and a summary is printed.
 *
 * `node soak.js proxy HOST:PORT...` runs only the proxy (soak.sh's driver starts it that way in a child process, so
 * the proxy's CPU does not delay the driver's clock, kills and RSS samples).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, writeFileSync, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { buildLayer, OCI_MEDIA_TYPES, writeImage } from "../test/support/oci-image";
import { startS3 } from "../test/support/s3";
import { copy, SkopeoError } from "../test/support/skopeo";
import { startRoundRobinProxy } from "../test/support/tcp-proxy";
import { freePort } from "../test/support/reference-registry";

// ------------------------------------------------------------------------------------------------ settings

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${raw}`);
  return value;
}

function killTarget(raw: string | undefined): "alternate" | "a" | "b" {
  if (raw === undefined || raw === "" || raw === "alternate") return "alternate";
  if (raw === "a" || raw === "b") return raw;
  throw new Error(`SOAK_KILL must be alternate, a or b, not ${raw}`);
}

const settings = {
  seconds: positive("SOAK_SECONDS", 600),
  killEvery: positive("SOAK_KILL_EVERY", 60),
  pushers: positive("SOAK_PUSHERS", 2),
  pullers: positive("SOAK_PULLERS", 1),
  wrkConnections: positive("SOAK_WRK_CONNECTIONS", 8),
  maxLayerBytes: positive("SOAK_MAX_LAYER_BYTES", 512 * 1024),
  /** Which node the SIGKILLs hit: both in turn, or always the same one, so the other lives through the whole soak. */
  kill: killTarget(process.env.SOAK_KILL),
  databaseUrl: process.env.SOAK_DATABASE_URL ?? "",
  main: process.env.SOAK_MAIN ?? "",
  work: process.env.SOAK_WORK ?? "",
  repositories: 8,
  /** A kill window runs from just before the SIGKILL to this long after the restarted node answers. */
  windowGraceMs: 2_000,
};

const log = (message: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------------ nodes

interface Incarnation {
  node: string;
  number: number;
  pid: number;
  startedAt: number;
  readyAt?: number;
  endedAt?: number;
  rssAtReadyKb?: number;
  rssLastKb?: number;
  rssMaxKb?: number;
  /** How it ended: killed by the soak, exited by itself, or still running at the end. */
  end?: "sigkill" | "unexpected exit" | "running";
  exitDetail?: string;
}

function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}


/** One `berth serve` on a fixed port; `start` again after a kill gives a new incarnation on the same port. */
class Node {
  child?: ChildProcess;
  current?: Incarnation;
  private killing = false;
  private readonly logFile: WriteStream;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly incarnations: Incarnation[],
    private readonly onUnexpectedExit: (node: Node) => void,
  ) {
    this.logFile = createWriteStream(path.join(settings.work, `node-${name}.log`), { flags: "a" });
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const number = this.incarnations.filter((i) => i.node === this.name).length + 1;
    this.logFile.write(`--- soak: incarnation ${number} starting at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [settings.main, "serve"], {
      // SOAK_NODE_OPTIONS reaches the nodes only (e.g. `-r <probe>` to look inside them); the driver's own never does.
      env: { ...process.env, NODE_OPTIONS: process.env.SOAK_NODE_OPTIONS ?? "", ...this.env, BERTH_ADDR: this.host },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(this.logFile, { end: false });
    child.stderr!.pipe(this.logFile, { end: false });
    const incarnation: Incarnation = { node: this.name, number, pid: child.pid!, startedAt: Date.now() };
    this.incarnations.push(incarnation);
    this.child = child;
    this.current = incarnation;
    this.killing = false;
    child.once("exit", (code, signal) => {
      incarnation.endedAt = Date.now();
      if (this.killing) return;
      incarnation.end = "unexpected exit";
      incarnation.exitDetail = `code ${code} signal ${signal}`;
      this.onUnexpectedExit(this);
    });
    await this.waitUntilReady(child);
    incarnation.readyAt = Date.now();
    incarnation.rssAtReadyKb = rssKb(child.pid!);
    this.sample();
  }

  /** Ready when /v2/ answers (401 for anonymous): the request log is off (BERTH_LOG_LEVEL=warn), so no ready line. */
  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`node ${this.name} exited while starting (see node-${this.name}.log)`);
      try {
        const response = await fetch(`http://${this.host}/v2/`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 401 || response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`node ${this.name} did not answer within 120 s`);
  }

  sample(): void {
    if (!this.child || !this.current || this.current.endedAt) return;
    const rss = rssKb(this.child.pid!);
    if (rss === undefined) return;
    this.current.rssLastKb = rss;
    this.current.rssMaxKb = Math.max(this.current.rssMaxKb ?? 0, rss);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.sample();
    this.killing = true;
    if (this.current) this.current.end = "sigkill";
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  close(): void {
    this.logFile.end();
  }
}

// ------------------------------------------------------------------------------------------------ workload

interface Pushed {
  reference: string; // library/soak-N:tM
  repository: string;
  tag: string;
  manifestDigest: string;
  blobDigests: string[];
}

interface Operation {
  kind: "push" | "pull";
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

interface KillWindow {
  node: string;
  killAt: number;
  readyAt?: number;
}

class Soak {
  readonly incarnations: Incarnation[] = [];
  readonly operations: Operation[] = [];
  readonly acknowledged: Pushed[] = [];
  readonly windows: KillWindow[] = [];
  readonly unexpectedExits: string[] = [];
  readonly errors: string[] = [];
  nodes: Node[] = [];
  proxyHost = "";
  private proxy?: ChildProcess;
  private wrk?: ChildProcess;
  private stopping = false;
  private pushCount = 0;
  private restarting = new Set<Node>();
  private sampler?: NodeJS.Timeout;
  readonly password = `Soak-${randomBytes(9).toString("hex")}`;

  get creds(): string {
    return `admin:${this.password}`;
  }

  get basic(): string {
    return `Basic ${Buffer.from(this.creds).toString("base64")}`;
  }

  async startCluster(s3: { endpoint: string; bucket: string; accessKey: string; secretKey: string }): Promise<void> {
    const dataDir = path.join(settings.work, "data");
    await mkdir(dataDir, { recursive: true });
    // Same key on both nodes (the at-rest encryption's variable; an older build ignores it): 32 bytes, base64, 0600.
    const keyFile = path.join(settings.work, "secretkey");
    writeFileSync(keyFile, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    const env: Record<string, string> = {
      BERTH_DATA_DIR: dataDir,
      BERTH_DATABASE_URL: settings.databaseUrl,
      BERTH_ADMIN_PASSWORD: this.password,
      BERTH_LOG_LEVEL: "warn",
      BERTH_CONTROLLER_REPO: "off",
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: s3.endpoint,
      BERTH_S3_BUCKET: s3.bucket,
      BERTH_S3_ACCESS_KEY: s3.accessKey,
      BERTH_S3_SECRET_KEY: s3.secretKey,
      BERTH_SECRET_KEY_FILE: keyFile,
      // Two nodes on one host: the default metrics address (127.0.0.1:9090) would be taken by the first.
      BERTH_METRICS_ADDR: "off",
    };
    const ports = [await freePort(), await freePort()];
    this.nodes = ["a", "b"].map((name, i) => new Node(name, ports[i]!, env, this.incarnations, (node) => this.onUnexpectedExit(node)));
    // One after the other: the first start runs the migrations.
    for (const node of this.nodes) await node.start();
    await this.startProxy();
    log(`nodes ${this.nodes.map((n) => `${n.name}=${n.host} (pid ${n.current!.pid})`).join(", ")}; proxy ${this.proxyHost}`);
  }

  private startProxy(): Promise<void> {
    const proxy = spawn(process.execPath, [__filename, "proxy", ...this.nodes.map((n) => n.host)], { stdio: ["ignore", "pipe", "inherit"] });
    this.proxy = proxy;
    return new Promise((resolve, reject) => {
      let out = "";
      proxy.stdout!.on("data", (chunk) => {
        out += chunk;
        const match = /^PROXY (\S+)$/m.exec(out);
        if (match) {
          this.proxyHost = match[1]!;
          resolve();
        }
      });
      proxy.once("exit", (code) => reject(new Error(`the proxy exited with ${code}`)));
    });
  }

  private onUnexpectedExit(node: Node): void {
    const detail = `${new Date().toISOString()} node ${node.name} incarnation ${node.current?.number} exited by itself (${node.current?.exitDetail})`;
    log(detail);
    this.unexpectedExits.push(detail);
    if (this.stopping) return;
    // Counted as a window too: requests in flight on it failed for the same reason as after a kill.
    const window: KillWindow = { node: node.name, killAt: Date.now() };
    this.windows.push(window);
    this.restart(node, window);
  }

  private restart(node: Node, window: KillWindow): void {
    this.restarting.add(node);
    node.start().then(
      () => {
        window.readyAt = Date.now();
        this.restarting.delete(node);
      },
      (error) => {
        this.errors.push(`restarting node ${node.name}: ${(error as Error).message}`);
        this.restarting.delete(node);
      },
    );
  }

  /** Seed images for wrk, pushed before the clock starts (and before any kill). */
  async seed(layoutRoot: string): Promise<string[]> {
    const paths: string[] = [];
    for (let i = 0; i < 4; i++) {
      const pushed = await this.pushOne(layoutRoot, `seed-${i}`);
      if (!pushed) throw new Error(`seeding wrk's image ${i} failed: ${this.operations.at(-1)?.error}`);
      paths.push(`/v2/${pushed.repository}/manifests/${pushed.tag}`);
    }
    return paths;
  }

  /** Builds a small random image, pushes it through the proxy, records the push and whether it was acknowledged. */
  private async pushOne(layoutRoot: string, tag: string): Promise<Pushed | null> {
    const n = this.pushCount++;
    const layout = path.join(layoutRoot, `push-${n}`);
    const size = 1024 + Math.floor(Math.random() * settings.maxLayerBytes);
    // A shared base layer (its HEAD finds it already stored after the first push) and one random layer.
    const layers = [await buildLayer({ "base.txt": "berth soak base layer\n" }), await buildLayer({ "data.bin": randomBytes(size) })];
    const image = await writeImage(layout, { tag, layers });
    const repository = `library/soak-${n % settings.repositories}`;
    const operation: Operation = { kind: "push", start: Date.now(), end: 0, ok: false };
    try {
      await copy(`oci:${layout}:${tag}`, `docker://${this.proxyHost}/${repository}:${tag}`, { destCreds: this.creds });
      operation.ok = true;
    } catch (error) {
      operation.error = oneLine(error);
    } finally {
      operation.end = Date.now();
      this.operations.push(operation);
      await rm(layout, { recursive: true, force: true });
    }
    if (!operation.ok) return null;
    const pushed = { reference: `${repository}:${tag}`, repository, tag, manifestDigest: image.manifestDigest, blobDigests: [image.configDigest, ...image.layerDigests] };
    this.acknowledged.push(pushed);
    return pushed;
  }

  private async pusher(layoutRoot: string): Promise<void> {
    while (!this.stopping) await this.pushOne(layoutRoot, `t${this.pushCount}`);
  }

  /** skopeo pulls of random acknowledged images into a scratch layout; the pulled manifest digest must match. */
  private async puller(scratchRoot: string, id: number): Promise<void> {
    let n = 0;
    while (!this.stopping) {
      const candidates = this.acknowledged;
      const image = candidates[Math.floor(Math.random() * candidates.length)]!;
      const dir = path.join(scratchRoot, `pull-${id}-${n++}`);
      const operation: Operation = { kind: "pull", start: Date.now(), end: 0, ok: false };
      try {
        await copy(`docker://${this.proxyHost}/${image.reference}`, `oci:${dir}:x`, { srcCreds: this.creds });
        const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
        const digest = index.manifests[0]?.digest;
        if (digest !== image.manifestDigest) throw new Error(`pulled ${image.reference} as ${digest}, pushed ${image.manifestDigest}`);
        operation.ok = true;
      } catch (error) {
        operation.error = oneLine(error);
      } finally {
        operation.end = Date.now();
        this.operations.push(operation);
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /** wrk on the seeded manifests through the proxy, with Basic credentials; a Lua script counts statuses and 5xx times. */
  private runWrk(paths: string[]): Promise<string> {
    const script = path.join(settings.work, "soak.lua");
    writeFileSync(script, wrkScript(paths));
    const accept = `Accept: ${OCI_MEDIA_TYPES.manifest}, application/vnd.docker.distribution.manifest.v2+json`;
    const args = ["-t1", `-c${settings.wrkConnections}`, `-d${settings.seconds}s`, "--timeout", "10s", "-s", script, "-H", accept, "-H", `Authorization: ${this.basic}`, `http://${this.proxyHost}/`];
    return new Promise((resolve) => {
      const wrk = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
      this.wrk = wrk;
      let out = "";
      wrk.stdout!.on("data", (chunk) => (out += chunk));
      wrk.stderr!.on("data", (chunk) => (out += chunk));
      wrk.once("exit", () => resolve(out));
    });
  }

  private async killer(): Promise<void> {
    const start = Date.now();
    for (let k = 1; ; k++) {
      const at = start + k * settings.killEvery * 1000;
      if (at >= start + settings.seconds * 1000) return;
      while (Date.now() < at && !this.stopping) await sleep(Math.min(250, at - Date.now()));
      if (this.stopping) return;
      const node = settings.kill === "alternate" ? this.nodes[(k - 1) % 2]! : this.nodes.find((n) => n.name === settings.kill)!;
      if (this.restarting.size > 0) {
        this.errors.push(`kill ${k} skipped: a node was still restarting`);
        continue;
      }
      const window: KillWindow = { node: node.name, killAt: Date.now() };
      this.windows.push(window);
      await node.kill();
      log(`killed node ${node.name} (incarnation ${node.current!.number}, RSS ${mb(node.current!.rssLastKb)} MB)`);
      this.restart(node, window);
    }
  }

  async run(layoutRoot: string, scratchRoot: string): Promise<{ wrkOutput: string; startedAt: number; endedAt: number }> {
    const paths = await this.seed(layoutRoot);
    log(`seeded ${paths.length} images; soaking for ${settings.seconds} s, a SIGKILL every ${settings.killEvery} s`);
    // Every 5 s until close(), so the maximum includes the final read-back.
    this.sampler = setInterval(() => this.nodes.forEach((node) => node.sample()), 5_000);
    const startedAt = Date.now();
    const wrkDone = this.runWrk(paths);
    const workers = [
      ...Array.from({ length: settings.pushers }, () => this.pusher(layoutRoot)),
      ...Array.from({ length: settings.pullers }, (_, i) => this.puller(scratchRoot, i)),
      this.killer(),
    ];
    const progress = setInterval(() => {
      const pushes = this.operations.filter((o) => o.kind === "push");
      log(`${Math.round((Date.now() - startedAt) / 1000)} s: ${pushes.length} pushes (${this.acknowledged.length} acknowledged), ${this.operations.length - pushes.length} pulls`);
    }, 60_000);
    await sleep(settings.seconds * 1000);
    this.stopping = true;
    log("time is up: waiting for the operations in flight");
    const wrkOutput = await wrkDone;
    await Promise.all(workers);
    clearInterval(progress);
    const endedAt = Date.now();
    // A node killed near the end may still be starting: the final check needs both.
    while (this.restarting.size > 0) await sleep(200);
    this.nodes.forEach((node) => node.sample());
    return { wrkOutput, startedAt, endedAt };
  }

  /** Reads every acknowledged push back (manifest by tag, then each blob) and checks the hashes. */
  async verify(base: string, concurrency = 4): Promise<{ failed: string[]; requests: number }> {
    const failed: string[] = [];
    let requests = 0;
    let next = 0;
    const get = async (url: string, accept?: string): Promise<Buffer> => {
      requests += 1;
      const response = await fetch(url, { headers: { Authorization: this.basic, ...(accept ? { Accept: accept } : {}) }, signal: AbortSignal.timeout(30_000) });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200) throw new Error(`GET ${url} -> ${response.status} ${body.toString("utf8").slice(0, 200)}`);
      return body;
    };
    const sha = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const worker = async () => {
      while (next < this.acknowledged.length) {
        const image = this.acknowledged[next++]!;
        try {
          const manifest = await get(`${base}/v2/${image.repository}/manifests/${image.tag}`, OCI_MEDIA_TYPES.manifest);
          if (sha(manifest) !== image.manifestDigest) throw new Error(`manifest of ${image.reference} is ${sha(manifest)}, pushed ${image.manifestDigest}`);
          for (const digest of image.blobDigests) {
            const blob = await get(`${base}/v2/${image.repository}/blobs/${digest}`);
            if (sha(blob) !== digest) throw new Error(`blob ${digest} of ${image.reference} reads back as ${sha(blob)}`);
          }
        } catch (error) {
          failed.push(`${image.reference}: ${oneLine(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { failed, requests };
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sampler);
    this.wrk?.kill("SIGKILL");
    this.proxy?.kill("SIGKILL");
    for (const node of this.nodes) {
      for (const incarnation of this.incarnations) if (incarnation.node === node.name && !incarnation.endedAt && !incarnation.end) incarnation.end = "running";
      await node.kill();
      node.close();
    }
  }

  /** Synchronous last resort (process exit): no child outlives the driver. */
  killAllNow(): void {
    this.wrk?.kill("SIGKILL");
    this.proxy?.kill("SIGKILL");
    for (const node of this.nodes) node.child?.kill("SIGKILL");
  }
}

function oneLine(error: unknown): string {
  // A SkopeoError's message repeats the whole command line: its stderr is what says what went wrong.
  const text = error instanceof SkopeoError ? `skopeo ${error.args[0] === "--insecure-policy" ? error.args[1] : error.args[0]}: ${error.stderr}` : error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").slice(0, 400);
}

function mb(kb: number | undefined): string {
  return kb === undefined ? "?" : ((kb * 1024) / 1e6).toFixed(1);
}

/**
 * wrk's Lua: cycles over the seeded manifest paths; each thread counts responses by status and, for 5xx, by second
 * (wall clock), so the summary can tell whether they fall into kill windows.
 */
function wrkScript(paths: string[]): string {
  return `
local paths = { ${paths.map((p) => JSON.stringify(p)).join(", ")} }
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; statuses = {}; fivexx = {} end
function request() n = n + 1; return wrk.format("GET", paths[(n % #paths) + 1]) end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 500 then local t = os.time(); fivexx[t] = (fivexx[t] or 0) + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("SOAK requests %d\\n", summary.requests))
  local e = summary.errors
  io.write(string.format("SOAK errors connect=%d read=%d write=%d timeout=%d status=%d\\n", e.connect, e.read, e.write, e.timeout, e.status))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do io.write(string.format("SOAK status %d %d\\n", status, count)) end
    for second, count in pairs(thread:get("fivexx")) do io.write(string.format("SOAK 5xx-at %d %d\\n", second, count)) end
  end
end
`;
}

interface WrkResult {
  requests: number;
  errors: string;
  statuses: Map<number, number>;
  fiveXxAt: Array<{ second: number; count: number }>;
}

function parseWrk(output: string): WrkResult {
  const statuses = new Map<number, number>();
  const fiveXxAt: WrkResult["fiveXxAt"] = [];
  let requests = 0;
  let errors = "wrk printed no summary";
  for (const line of output.split("\n")) {
    let match;
    if ((match = /^SOAK requests (\d+)/.exec(line))) requests = Number(match[1]);
    else if ((match = /^SOAK errors (.*)$/.exec(line))) errors = match[1]!;
    else if ((match = /^SOAK status (\d+) (\d+)/.exec(line))) statuses.set(Number(match[1]), (statuses.get(Number(match[1])) ?? 0) + Number(match[2]));
    else if ((match = /^SOAK 5xx-at (\d+) (\d+)/.exec(line))) fiveXxAt.push({ second: Number(match[1]), count: Number(match[2]) });
  }
  return { requests, errors, statuses, fiveXxAt };
}

/** Error-level lines (pino level 50/60) in a node's log, with their time. */
function serverErrors(file: string): Array<{ time: number; line: string }> {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const found: Array<{ time: number; line: string }> = [];
  for (const line of text.split("\n")) {
    if (!/"level":(50|60)/.test(line)) continue;
    const time = Number(/"time":(\d+)/.exec(line)?.[1] ?? 0);
    found.push({ time, line: line.slice(0, 600) });
  }
  return found;
}

// ------------------------------------------------------------------------------------------------ report

function summarise(soak: Soak, run: { wrkOutput: string; startedAt: number; endedAt: number }, verify: { failed: string[]; requests: number }): { text: string; failed: boolean } {
  const inWindow = (from: number, to: number = from) =>
    soak.windows.some((w) => from <= (w.readyAt ?? run.endedAt) + settings.windowGraceMs && to >= w.killAt - 1_000);
  const wrk = parseWrk(run.wrkOutput);
  const wrk5xx = wrk.fiveXxAt.reduce((sum, x) => sum + x.count, 0);
  // wrk's clock is whole seconds: a second counts as inside when any of it overlaps a window.
  const wrk5xxOutside = wrk.fiveXxAt.filter((x) => !inWindow(x.second * 1000, x.second * 1000 + 999)).reduce((sum, x) => sum + x.count, 0);
  const non2xx = [...wrk.statuses].filter(([status]) => status < 200 || status >= 300);
  const pushes = soak.operations.filter((o) => o.kind === "push");
  const pulls = soak.operations.filter((o) => o.kind === "pull");
  const failedOutside = soak.operations.filter((o) => !o.ok && !inWindow(o.start, o.end));
  // skopeo says "received unexpected HTTP status: 500 Internal Server Error" (or "... 503 ...") for a 5xx answer.
  const skopeo5xx = soak.operations.filter((o) => !o.ok && /HTTP status: 5\d\d|\b5\d\d (Internal Server Error|Service Unavailable|Bad Gateway)/.test(o.error ?? ""));
  const logged = soak.nodes.flatMap((node) => serverErrors(path.join(settings.work, `node-${node.name}.log`)).map((e) => ({ ...e, node: node.name })));
  const logged5xx = logged.filter((e) => /request failed/.test(e.line));
  const loggedOutside = logged.filter((e) => !inWindow(e.time));
  const perNode = (name: string) => soak.incarnations.filter((i) => i.node === name);
  const incarnationLine = (i: Incarnation | undefined) =>
    i
      ? `${i.node}#${i.number} pid ${i.pid}: RSS at ready ${mb(i.rssAtReadyKb)} MB, at end ${mb(i.rssLastKb)} MB, max ${mb(i.rssMaxKb)} MB, lived ${Math.round(((i.endedAt ?? Date.now()) - (i.readyAt ?? i.startedAt)) / 1000)} s (${i.end ?? (i.endedAt ? "?" : "running")})`
      : "-";
  const longest = [...soak.incarnations].sort((a, b) => (b.endedAt ?? Date.now()) - (b.readyAt ?? b.startedAt) - ((a.endedAt ?? Date.now()) - (a.readyAt ?? a.startedAt)))[0];
  const restarts = soak.windows.filter((w) => w.readyAt).map((w) => (w.readyAt! - w.killAt) / 1000);
  const lines = [
    `soak: ${Math.round((run.endedAt - run.startedAt) / 1000)} s (SOAK_SECONDS=${settings.seconds}), SIGKILL every ${settings.killEvery} s (SOAK_KILL=${settings.kill}): ${soak.windows.length} kills/exits, restart to ready ${restarts.length ? `${Math.min(...restarts).toFixed(1)}-${Math.max(...restarts).toFixed(1)} s` : "-"}`,
    `load: ${settings.pushers} pushers, ${settings.pullers} pullers, wrk -t1 -c${settings.wrkConnections}; ${readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).join(" ")} load average at the end, ${cpus().length} CPUs`,
    `requests: ${wrk.requests + pushes.length + pulls.length + verify.requests} = wrk ${wrk.requests} + skopeo pushes ${pushes.length} + skopeo pulls ${pulls.length} + verification GETs ${verify.requests}`,
    `wrk statuses: ${[...wrk.statuses].map(([s, c]) => `${s}=${c}`).join(" ") || "-"}; socket errors: ${wrk.errors}`,
    `wrk non-2xx: ${non2xx.reduce((sum, [, c]) => sum + c, 0)}; 5xx: ${wrk5xx} (outside kill windows: ${wrk5xxOutside})`,
    `server error-level log lines: ${logged.length} (5xx "request failed": ${logged5xx.length}; outside kill windows: ${loggedOutside.length})`,
    `pushes: ${pushes.length}, acknowledged ${soak.acknowledged.length} (incl. 4 seeds), failed ${pushes.filter((o) => !o.ok).length}; pulls during the soak: ${pulls.length}, failed ${pulls.filter((o) => !o.ok).length}`,
    `skopeo failures outside kill windows: ${failedOutside.length}; skopeo failures citing a 5xx: ${skopeo5xx.length} (outside kill windows: ${skopeo5xx.filter((o) => !inWindow(o.start, o.end)).length})`,
    `acknowledged pushes that fail to pull: ${verify.failed.length} of ${soak.acknowledged.length}`,
    `unexpected node exits: ${soak.unexpectedExits.length}`,
    `RSS first start:  ${incarnationLine(perNode("a")[0])}`,
    `                  ${incarnationLine(perNode("b")[0])}`,
    `RSS final:        ${incarnationLine(perNode("a").at(-1))}`,
    `                  ${incarnationLine(perNode("b").at(-1))}`,
    `RSS longest-lived: ${incarnationLine(longest)}`,
    `incarnations: ${soak.incarnations.map((i) => `${i.node}#${i.number} ${mb(i.rssAtReadyKb)}->${mb(i.rssLastKb)}`).join(" ")} (RSS MB at ready -> at end)`,
    `kill windows: ${soak.windows.map((w) => `${w.node}@${Math.round((w.killAt - run.startedAt) / 1000)}s+${w.readyAt ? ((w.readyAt - w.killAt) / 1000).toFixed(1) : "?"}s`).join(" ")}`,
    `errors: ${soak.errors.length}`,
  ];
  const details = [
    ...soak.errors.map((e) => `  error: ${e}`),
    ...soak.unexpectedExits.map((e) => `  exit: ${e}`),
    ...verify.failed.slice(0, 20).map((f) => `  not pullable: ${f}`),
    ...failedOutside.slice(0, 20).map((o) => `  ${o.kind} failed outside a kill window at ${Math.round((o.start - run.startedAt) / 1000)}s: ${o.error}`),
    ...soak.operations.filter((o) => !o.ok && inWindow(o.start, o.end)).slice(0, 10).map((o) => `  ${o.kind} failed in a kill window at ${Math.round((o.start - run.startedAt) / 1000)}s: ${o.error}`),
    ...loggedOutside.slice(0, 20).map((e) => `  node ${e.node} logged outside a kill window: ${e.line}`),
    ...logged.filter((e) => inWindow(e.time)).slice(0, 5).map((e) => `  node ${e.node} logged in a kill window: ${e.line}`),
  ];
  const failed = verify.failed.length > 0 || soak.unexpectedExits.length > 0 || wrk5xxOutside > 0 || loggedOutside.length > 0 || failedOutside.length > 0 || soak.errors.length > 0;
  lines.push(`result: ${failed ? "FAIL" : "pass"}`);
  return { text: [...lines, ...(details.length ? ["details:", ...details] : [])].join("\n"), failed };
}

// ------------------------------------------------------------------------------------------------ main

async function runProxy(upstreams: string[]): Promise<void> {
  const proxy = await startRoundRobinProxy(upstreams);
  process.stdout.write(`PROXY ${proxy.host}\n`);
  process.on("SIGTERM", () => proxy.close().then(() => process.exit(0)));
}

async function main(): Promise<number> {
  if (!settings.databaseUrl || !settings.main || !settings.work) throw new Error("run bench/soak.sh: SOAK_DATABASE_URL, SOAK_MAIN and SOAK_WORK are set there");
  const soak = new Soak();
  process.on("exit", () => soak.killAllNow());
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
  const s3 = await startS3("berth-soak");
  try {
    await soak.startCluster(s3.settings);
    const layouts = await mkdtemp(path.join(settings.work, "layouts-"));
    const scratch = await mkdtemp(path.join(settings.work, "pulls-"));
    const run = await soak.run(layouts, scratch);
    log(`verifying ${soak.acknowledged.length} acknowledged pushes through the proxy and on each node`);
    const viaProxy = await soak.verify(`http://${soak.proxyHost}`);
    const direct = await Promise.all(soak.nodes.map((node) => soak.verify(`http://${node.host}`)));
    const verify = {
      failed: [...viaProxy.failed, ...direct.flatMap((d, i) => d.failed.map((f) => `(node ${soak.nodes[i]!.name} directly) ${f}`))],
      requests: viaProxy.requests + direct.reduce((sum, d) => sum + d.requests, 0),
    };
    soak.nodes.forEach((node) => node.sample());
    const { text, failed } = summarise(soak, run, verify);
    process.stdout.write(`${text}\n`);
    return verify.failed.length > 0 ? 1 : failed ? 3 : 0;
  } finally {
    await soak.close();
    await s3.close();
  }
}

if (process.argv[2] === "proxy") {
  runProxy(process.argv.slice(3)).catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(2);
  });
} else {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`soak failed: ${(error as Error).stack}\n`);
      process.exit(2);
    },
  );
}
