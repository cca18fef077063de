/**
 * The driver of bench/scan-rematch.sh and bench/scan-push.sh (compiled by bench/scan-bench.sh with the project's tsc;
 * read bench/README.md). It starts the built `berth serve` on a fresh PostgreSQL database, builds real scannable
 * images (this machine's dpkg status and os-release as a shared base layer, a distinct small npm layer on each) and
 * OSV records for the very packages they hold, then:
 *
 * - `rematch`: pushes IMAGES images into an auto_scan project, waits until all are scanned, imports a changed record
 *   set and times until every report is matched against the new generation (polling scan_reports);
 * - `push`: times manifest PUTs (their blobs already uploaded) into a project with auto_scan off and one with it on,
 *   in alternating rounds, the scan workers busy with the scans the "on" rounds queue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { Client } from "pg";
import { buildLayer, OCI_MEDIA_TYPES, sha256Digest, type Layer } from "../test/support/oci-image";
import { freePort } from "../test/support/reference-registry";

// ------------------------------------------------------------------------------------------------ settings

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, not ${raw}`);
  return value;
}

const settings = {
  images: whole("IMAGES", process.argv[2] === "push" ? 600 : 1000),
  /** Debian records per source package installed here, and how many of them affect the installed version. */
  recordsPerSource: whole("RECORDS_PER_SOURCE", 6),
  affectedPerSource: whole("AFFECTED_PER_SOURCE", 1),
  npmPool: whole("NPM_POOL", 200),
  npmPerImage: whole("NPM_PER_IMAGE", 5),
  /** The changed set moves one record in this many (a newer `modified`, the affected ones made fixed and back). */
  changedEvery: whole("CHANGED_EVERY", 10),
  rounds: whole("ROUNDS", 6),
  concurrency: whole("CONCURRENCY", 4),
  workers: process.env.SCAN_WORKERS ?? "1",
  databaseUrl: process.env.BENCH_DATABASE_URL ?? "",
  main: process.env.BENCH_MAIN ?? "",
  work: process.env.BENCH_WORK ?? "",
  /** Node options of the measured server only (--cpu-prof is refused in NODE_OPTIONS: these go on its command line). */
  nodeArgs: (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== ""),
  modules: process.env.BENCH_NODE_MODULES ?? "",
};

const log = (message: string) => process.stderr.write(`[scan-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(2);

// ------------------------------------------------------------------------------------------------ the server


const password = `Bench-${randomBytes(9).toString("hex")}`;
const AUTH = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

class Berth {
  private child?: ChildProcess;
  base = "";

  async start(label: string, nodeArgs: string[] = []): Promise<void> {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    const output = createWriteStream(path.join(settings.work, `berth-${label}.log`));
    const child = spawn(process.execPath, [...nodeArgs, settings.main, "serve"], {
      cwd: settings.work,
      env: {
        ...process.env,
        NODE_OPTIONS: "",
        BERTH_ADDR: `127.0.0.1:${port}`,
        BERTH_DATA_DIR: path.join(settings.work, "data"),
        BERTH_DATABASE_URL: settings.databaseUrl,
        BERTH_ADMIN_PASSWORD: password,
        BERTH_LOG_LEVEL: "warn",
        BERTH_CONTROLLER_REPO: "off",
        BERTH_METRICS_ADDR: "off",
        BERTH_ANONYMOUS_RATE_PER_SECOND: "0",
        BERTH_SCAN_WORKERS: settings.workers,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(output);
    child.stderr!.pipe(output);
    this.child = child;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`berth exited while starting (see berth-${label}.log)`);
      try {
        const response = await fetch(`${this.base}/v2/`);
        await response.arrayBuffer();
        if (response.status === 401 || response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error("berth did not answer within 120 s");
  }

  /** SIGTERM and wait: a graceful exit, so a --cpu-prof profile is written. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }

  kill(): void {
    this.child?.kill("SIGKILL");
  }

  async request(method: string, url: string, body?: Buffer | string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { Authorization: AUTH };
    if (contentType) headers["Content-Type"] = contentType;
    // A copy as a plain Uint8Array: the DOM typings of fetch refuse a Buffer over ArrayBufferLike.
    return fetch(`${this.base}${url}`, { method, headers, body: typeof body === "string" || body === undefined ? body : new Uint8Array(body) });
  }

  async expect(method: string, url: string, status: number, body?: Buffer | string, contentType?: string): Promise<Response> {
    const response = await this.request(method, url, body, contentType);
    if (response.status !== status) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return response;
  }

  async createProject(name: string, autoScan: boolean): Promise<void> {
    const body = JSON.stringify({ project_name: name, metadata: { public: "false", auto_scan: String(autoScan) } });
    await (await this.expect("POST", "/api/v2.0/projects", 201, body, "application/json")).arrayBuffer();
  }

  async pushBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    const response = await this.expect("POST", `/v2/${repository}/blobs/uploads/?digest=${digest}`, 201, bytes, "application/octet-stream");
    await response.arrayBuffer();
    return digest;
  }

  async importRecords(records: unknown[]): Promise<{ generation: number; imported: number }> {
    const response = await this.request("POST", "/api/v2.0/vulndb/import?source=bench", JSON.stringify(records), "application/json");
    const text = await response.text();
    if (response.status >= 300) throw new Error(`vulndb import: ${response.status} ${text}`);
    return JSON.parse(text) as { generation: number; imported: number };
  }
}

// ------------------------------------------------------------------------------------------------ images and records

interface Installed {
  source: string;
  version: string;
}

/** Installed Debian source packages with their source versions (`Source: name (version)` when it differs). */
function installedSources(status: string): Installed[] {
  const sources = new Map<string, string>();
  for (const paragraph of status.split(/\n\n+/)) {
    if (!/^Status: \S+ \S+ installed$/m.test(paragraph)) continue;
    const name = /^Package: (\S+)$/m.exec(paragraph)?.[1];
    const version = /^Version: (\S+)$/m.exec(paragraph)?.[1];
    if (!name || !version) continue;
    const source = /^Source: (\S+)(?: \((\S+)\))?$/m.exec(paragraph);
    sources.set(source?.[1] ?? name, source?.[2] ?? version);
  }
  return [...sources].map(([source, version]) => ({ source, version }));
}

interface NpmPackage {
  name: string;
  version: string;
  manifest: Buffer;
}

/** Real npm packages with plain x.y.z versions: this project's own node_modules. */
function npmPool(limit: number): NpmPackage[] {
  const pool: NpmPackage[] = [];
  for (const entry of readdirSync(settings.modules).sort()) {
    if (entry.startsWith(".") || entry.startsWith("@")) continue;
    try {
      const manifest = readFileSync(path.join(settings.modules, entry, "package.json"));
      const { name, version } = JSON.parse(manifest.toString("utf8")) as { name?: string; version?: string };
      if (typeof name === "string" && typeof version === "string" && /^\d+\.\d+\.\d+$/.test(version)) pool.push({ name, version, manifest });
    } catch {
      // not a package
    }
    if (pool.length >= limit) break;
  }
  return pool;
}

const VECTORS = [
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
  "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N",
  "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
];

function record(id: number, ecosystem: string, name: string, fixed: string, modified: string) {
  const cve = `CVE-2098-${String(id).padStart(6, "0")}`;
  return {
    schema_version: "1.6.0",
    id: ecosystem === "npm" ? `GHSA-bench-${id}` : `DEBIAN-${cve}`,
    aliases: [cve],
    modified,
    published: "2026-01-01T00:00:00Z",
    summary: `${cve} in ${name}`,
    details: `A synthetic record for the scan benchmark: ${name} before ${fixed} is affected.\n${"Details of the flaw. ".repeat(15)}`,
    severity: [{ type: "CVSS_V3", score: VECTORS[id % VECTORS.length] }],
    references: [
      { type: "ADVISORY", url: `https://security-tracker.debian.org/tracker/${cve}` },
      { type: "WEB", url: `https://example.org/advisories/${cve}` },
    ],
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] }],
  };
}

interface Workload {
  base: Layer;
  pool: NpmPackage[];
  /** The record set; `changed` is the same set with one record in CHANGED_EVERY moved on. */
  records: ReturnType<typeof record>[];
  changed: ReturnType<typeof record>[];
}

async function workload(): Promise<Workload> {
  const status = readFileSync("/var/lib/dpkg/status", "utf8");
  const base = await buildLayer({ "etc/os-release": readFileSync("/etc/os-release"), "var/lib/dpkg/status": status });
  const pool = npmPool(settings.npmPool);
  const records: ReturnType<typeof record>[] = [];
  const changed: ReturnType<typeof record>[] = [];
  // `affected` picks a fixed version above the installed one (a finding) or below every real one (none).
  const add = (ecosystem: string, name: string, installed: string, affected: boolean, low: string) => {
    const id = records.length;
    const fixedAbove = ecosystem === "npm" ? `${Number(installed.split(".")[0]) + 1}.0.0` : `${installed}+bench1`;
    records.push(record(id, ecosystem, name, affected ? fixedAbove : low, "2026-01-01T00:00:00Z"));
    const moves = id % settings.changedEvery === 0;
    changed.push(moves ? record(id, ecosystem, name, affected ? low : fixedAbove, "2026-02-01T00:00:00Z") : records[id]!);
  };
  for (const { source, version } of installedSources(status)) {
    for (let j = 0; j < settings.recordsPerSource; j++) add("Debian:12", source, version, j < settings.affectedPerSource, "0:0.0.1-1");
  }
  for (const pkg of pool) for (let j = 0; j < 3; j++) add("npm", pkg.name, pkg.version, j === 0, "0.0.1");
  return { base, pool, records, changed };
}

interface Image {
  top: Layer;
  config: Buffer;
}

/** Image `i`: the shared base and a top layer of NPM_PER_IMAGE packages of the pool and a file naming it. */
async function image(work: Workload, i: number, label: string): Promise<Image> {
  const files: Record<string, string | Buffer> = { "app/bench-id": `${label}-${i}\n` };
  for (let j = 0; j < settings.npmPerImage; j++) {
    const pkg = work.pool[(i * 7 + j * 13) % work.pool.length]!;
    files[`app/node_modules/${pkg.name}/package.json`] = pkg.manifest;
  }
  const top = await buildLayer(files);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [work.base.diffId, top.diffId] }, config: { Labels: { bench: `${label}-${i}` } } }),
  );
  return { top, config };
}

function manifestOf(work: Workload, img: Image): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    config: { mediaType: OCI_MEDIA_TYPES.config, digest: sha256Digest(img.config), size: img.config.length },
    layers: [work.base, img.top].map((layer) => ({ mediaType: OCI_MEDIA_TYPES.layer, digest: layer.digest, size: layer.size })),
  });
}

/** Uploads the blobs of `count` images into `repository` (CONCURRENCY at once); their manifests, not yet PUT. */
async function uploadImages(berth: Berth, work: Workload, repository: string, count: number, label: string): Promise<string[]> {
  await berth.pushBlob(repository, work.base.bytes);
  const manifests: string[] = new Array<string>(count);
  await inParallel(count, async (i) => {
    const img = await image(work, i, label);
    await berth.pushBlob(repository, img.top.bytes);
    await berth.pushBlob(repository, img.config);
    manifests[i] = manifestOf(work, img);
  });
  return manifests;
}

async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** PUTs `manifests[i]` as tag `t<i>` for i in [from, to), CONCURRENCY at once; each PUT's latency in ms. */
async function putManifests(berth: Berth, repository: string, manifests: string[], from: number, to: number): Promise<number[]> {
  const latencies: number[] = [];
  await inParallel(to - from, async (k) => {
    const i = from + k;
    const started = performance.now();
    const response = await berth.request("PUT", `/v2/${repository}/manifests/t${i}`, manifests[i], OCI_MEDIA_TYPES.manifest);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    if (response.status !== 201) throw new Error(`PUT ${repository}:t${i}: ${response.status}`);
  });
  return latencies;
}

// ------------------------------------------------------------------------------------------------ the database

async function scanCounts(db: Client): Promise<{ pending: number; running: number; success: number; failed: number }> {
  const { rows } = await db.query<{ status: string; count: number }>(
    "SELECT status, count(*)::int AS count FROM scan_reports WHERE scan_type = 'vulnerability' GROUP BY status",
  );
  const of = (status: string) => rows.find((row) => row.status === status)?.count ?? 0;
  return { pending: of("Pending"), running: of("Running"), success: of("Success"), failed: of("Error") };
}

/** Waits until at least `expected` scans succeeded and none waits or runs (any failed one is an error). */
async function waitForScans(db: Client, expected: number, what: string): Promise<void> {
  let last = 0;
  for (;;) {
    const counts = await scanCounts(db);
    if (counts.failed > 0) throw new Error(`${counts.failed} scans failed (see the berth log)`);
    if (counts.success >= expected && counts.pending === 0 && counts.running === 0) return;
    if (Date.now() - last > 10_000) {
      log(`${what}: ${counts.success}/${expected} scanned, ${counts.pending} pending, ${counts.running} running`);
      last = Date.now();
    }
    await sleep(200);
  }
}

// ------------------------------------------------------------------------------------------------ rematch

async function rematchBench(db: Client): Promise<void> {
  const work = await workload();
  log(`${work.records.length} records (${work.records.filter((r) => r.id.startsWith("DEBIAN")).length} Debian:12, ${work.pool.length * 3} npm), ${settings.images} images`);
  const berth = new Berth();
  try {
    await berth.start("setup");
    const loaded = await berth.importRecords(work.records);
    log(`imported ${loaded.imported} records, generation ${loaded.generation}`);
    await berth.createProject("rematch", true);
    const manifests = await uploadImages(berth, work, "rematch/app", settings.images, "rematch");
    const scanStart = performance.now();
    await putManifests(berth, "rematch/app", manifests, 0, settings.images);
    await waitForScans(db, settings.images, "first scans");
    const scanMs = performance.now() - scanStart;
    const sizes = await db.query<{ findings: number; report_bytes: number; packages: number; judgements: number }>(
      `SELECT avg((summary->>'total')::int)::int AS findings, avg(pg_column_size(report))::int AS report_bytes,
              ((SELECT count(*) FROM scan_packages) / count(*))::int AS packages, (SELECT count(*) FROM scan_judgements)::int AS judgements
         FROM scan_reports WHERE status = 'Success'`,
    );
    log(`first scans of ${settings.images} images: ${seconds(scanMs)} s; per report ${JSON.stringify(sizes.rows[0])}`);
    // A fresh process for the measured part, so a profile (BENCH_NODE_ARGS=--cpu-prof) holds only the re-match.
    await berth.stop();
    await berth.start("rematch", settings.nodeArgs);
    const importStart = performance.now();
    const moved = await berth.importRecords(work.changed);
    const imported = performance.now();
    let polls = 0;
    for (;;) {
      const { rows } = await db.query<{ stale: number; total: number }>(
        `SELECT count(*) FILTER (WHERE generation IS NULL OR generation < $1)::int AS stale, count(*)::int AS total
           FROM scan_reports WHERE scan_type = 'vulnerability' AND status = 'Success'`,
        [moved.generation],
      );
      polls++;
      if (rows[0]!.stale === 0) break;
      await sleep(50);
    }
    const done = performance.now();
    await berth.stop();
    const rematchS = (done - imported) / 1000;
    console.log(`images scanned                               ${settings.images}`);
    console.log(`records (Debian:12 + npm)                    ${work.records.length}; changed set moves ${moved.imported}`);
    console.log(`findings per report (average)                ${sizes.rows[0]!.findings}`);
    console.log(`stored report heading (average, bytes)       ${sizes.rows[0]!.report_bytes}`);
    console.log(`packages per report / judgements in all      ${sizes.rows[0]!.packages} / ${sizes.rows[0]!.judgements}`);
    console.log(`first scans (push to all scanned), s         ${seconds(scanMs)}`);
    console.log(`import of the changed set (request), s       ${seconds(imported - importStart)}`);
    console.log(`re-match after the import, s                 ${rematchS.toFixed(2)}  (${Math.round(settings.images / rematchS)} artifacts/s; target < 10 s: ${rematchS < 10 ? "pass" : "FAIL"})`);
    console.log(`import + re-match, s                         ${seconds(done - importStart)}  (${polls} polls)`);
  } finally {
    berth.kill();
  }
}

// ------------------------------------------------------------------------------------------------ push

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function pushBench(db: Client): Promise<void> {
  const work = await workload();
  const perRound = Math.ceil(settings.images / settings.rounds);
  log(`${settings.images} manifest PUTs per project in ${settings.rounds} rounds of ${perRound}, ${settings.concurrency} at once`);
  const berth = new Berth();
  try {
    await berth.start("push", settings.nodeArgs);
    await berth.importRecords(work.records);
    await berth.createProject("scanoff", false);
    await berth.createProject("scanon", true);
    const off = await uploadImages(berth, work, "scanoff/app", settings.images, "off");
    const on = await uploadImages(berth, work, "scanon/app", settings.images, "on");
    // A warm-up in each (the base layer's inventory cached, code paths hot), not measured.
    const warm = await uploadImages(berth, work, "scanon/warm", 20, "warm");
    await putManifests(berth, "scanon/warm", warm, 0, warm.length);
    await putManifests(berth, "scanoff/app", off, 0, 1);
    await waitForScans(db, 20, "warm-up scans");
    const latencies = { off: [] as number[], on: [] as number[] };
    const scansDuringOn: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const from = 1 + round * perRound;
      const to = Math.min(settings.images, from + perRound);
      if (from >= to) break;
      for (const mode of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
        // Each round starts with the workers idle: the "on" rounds make them busy with what their own PUTs queue.
        await waitForScans(db, 0, "draining the queue");
        const startCounts = await scanCounts(db);
        latencies[mode].push(...(await putManifests(berth, mode === "off" ? "scanoff/app" : "scanon/app", mode === "off" ? off : on, from, to)));
        if (mode === "on") {
          const end = await scanCounts(db);
          scansDuringOn.push(end.success - startCounts.success);
          log(`round ${round + 1} on: ${to - from} PUTs, ${end.success - startCounts.success} scans finished meanwhile, ${end.pending + end.running} queued at its end`);
        }
      }
    }
    await waitForScans(db, 0, "the last scans");
    const row = (label: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { label, n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
    };
    const a = row("auto_scan off", latencies.off);
    const b = row("auto_scan on", latencies.on);
    console.log(`manifest PUT latency, ms        n      p50      p95      p99      max`);
    for (const r of [a, b]) console.log(`${r.label.padEnd(24)} ${String(r.n).padStart(7)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)}`);
    const ratio = b.p99 / a.p99;
    console.log(`p99 on/off                       ${ratio.toFixed(2)}x  target <= 1.10: ${ratio <= 1.1 ? "pass" : "FAIL"}  (p50 ${(b.p50 / a.p50).toFixed(2)}x, p95 ${(b.p95 / a.p95).toFixed(2)}x)`);
    console.log(`scans finished during the "on" rounds: ${scansDuringOn.join(", ")}`);
  } finally {
    await berth.stop().catch(() => undefined);
    berth.kill();
  }
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== "rematch" && mode !== "push") throw new Error("usage: scan-bench.js rematch|push");
  const db = new Client({ connectionString: settings.databaseUrl });
  await db.connect();
  try {
    await (mode === "rematch" ? rematchBench(db) : pushBench(db));
  } finally {
    await db.end();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
