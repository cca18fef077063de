#!/usr/bin/env node
/*
 * What a worst-case manifest push costs the rest of the server (security finding 7).
 *
 *   npm run build && node bench/manifest-stall.cjs                  # embedded PGlite
 *   BERTH_DATABASE_URL=postgres://… node bench/manifest-stall.cjs   # PostgreSQL (an empty database)
 *
 * Starts dist/registry/main.js on a free port with a temp data dir, pushes the blobs the manifests need, then for
 * each case pushes one manifest while two anonymous loops run against the same server (GET /v2/ and a GET of another
 * manifest), and prints the push time, the slowest and median unrelated request, and the server's RSS growth.
 * Cases: 5 000 distinct layers padded to just under 4 MiB, the same with the padding in stored annotations, and a
 * 4 MiB manifest listing one layer ~27 000 times. BENCH_NODE_ARGS are the server's node flags (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
const { spawn } = require("node:child_process");
const { createHash } = require("node:crypto");
const { mkdtempSync, rmSync, readFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const path = require("node:path");

const PASSWORD = "Berth-Admin-12345";
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;
const MAX = 4 * 1024 * 1024;
const LAYERS = Number(process.env.LAYERS ?? 5000);
const OCI = "application/vnd.oci.image.manifest.v1+json";
const sha256 = (data) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

function start() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "berth-stall-"));
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean), path.join(__dirname, "..", "dist", "registry", "main.js"), "serve"], {
    env: {
      ...process.env,
      NODE_OPTIONS: "",
      BERTH_ADDR: "127.0.0.1:0",
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_LOG_LEVEL: "info",
      BERTH_CONTROLLER_REPO: "off",
    },
    stdio: ["ignore", "pipe", "inherit"],
    cwd: dataDir,
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/[^\s"]+)|"url":"(http:[^"]+)"/.exec(out);
      if (match && /berth is ready/.test(out)) resolve({ child, dataDir, url: match[1] ?? match[2] });
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)));
  });
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function pushBlob(url, repository, content) {
  const digest = sha256(content);
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { Authorization: AUTH, "Content-Type": "application/octet-stream" },
    body: content,
  });
  if (response.status !== 201) throw new Error(`blob push: ${response.status} ${await response.text()}`);
  return digest;
}

async function pushManifest(url, repository, tag, body) {
  const response = await fetch(`${url}/v2/${repository}/manifests/${tag}`, { method: "PUT", headers: { Authorization: AUTH, "Content-Type": OCI }, body });
  if (response.status !== 201) throw new Error(`manifest push: ${response.status} ${(await response.text()).slice(0, 500)}`);
}

/** Pads `manifest` (through `pad(manifest, text)`) so its JSON is just under the size limit. */
function fill(manifest, pad) {
  const base = JSON.stringify(manifest).length;
  const padded = pad(manifest, "x".repeat(MAX - base - 200));
  const body = JSON.stringify(padded);
  if (body.length > MAX) throw new Error("padding overshot");
  return body;
}

async function measure(url, pid, label, push) {
  const waits = { v2: [], manifest: [] };
  let pushing = true;
  const loop = async (kind, target) => {
    while (pushing) {
      const sent = performance.now();
      await (await fetch(`${url}${target}`, { headers: { Accept: OCI } })).arrayBuffer();
      waits[kind].push(performance.now() - sent);
    }
  };
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  const loops = [loop("v2", "/v2/"), loop("manifest", "/v2/library/other/manifests/v1")];
  await new Promise((r) => setTimeout(r, 200));
  const started = performance.now();
  try {
    await push();
  } finally {
    pushing = false;
    await Promise.all(loops).catch(() => undefined);
    clearInterval(sampler);
  }
  const took = performance.now() - started;
  const stat = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return `max ${sorted.at(-1).toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, n=${sorted.length}`;
  };
  console.log(`${label}: push ${took.toFixed(0)} ms; GET /v2/ ${stat(waits.v2)}; GET other manifest ${stat(waits.manifest)}; RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB (+${(peak - before).toFixed(0)})`);
}

async function latencyLoop(url, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const sent = performance.now();
    await (await fetch(`${url}/v2/library/other/manifests/v1`, { headers: { Accept: OCI } })).arrayBuffer();
    times.push(performance.now() - sent);
  }
  times.sort((a, b) => a - b);
  return `median ${times[n >> 1].toFixed(2)} ms, p99 ${times[Math.floor(n * 0.99)].toFixed(2)} ms`;
}

(async () => {
  const server = await start();
  const { url, child } = server;
  try {
    // Another manifest, for the unrelated GETs.
    const otherConfig = await pushBlob(url, "library/other", Buffer.from("{}"));
    await pushManifest(url, "library/other", "v1", JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: otherConfig, size: 2 }, layers: [] }));
    console.log(`quiet GET of a manifest, 2000 sequential: ${await latencyLoop(url, 2000)}`);

    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const configDigest = await pushBlob(url, "library/wide", config);
    const digests = [];
    for (let i = 0; i < LAYERS - 1; i += 16) {
      const batch = Array.from({ length: Math.min(16, LAYERS - 1 - i) }, (_, j) => pushBlob(url, "library/wide", Buffer.from(`layer ${i + j}`)));
      digests.push(...(await Promise.all(batch)));
    }
    const configDescriptor = { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length };
    const layer = (digest, extra = {}) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: 7, ...extra });
    const wide = { schemaVersion: 2, mediaType: OCI, config: configDescriptor, layers: digests.map((d) => layer(d)) };
    const per = Math.floor((MAX - JSON.stringify(wide).length - 40 * LAYERS) / LAYERS);
    const wideLayerPadded = JSON.stringify({ ...wide, layers: digests.map((d) => layer(d, { annotations: { p: "x".repeat(per) } })) });
    const wideStoredPadded = fill(wide, (m, text) => ({ ...m, annotations: { pad: text } }));
    const repeatDigest = digests[0];
    const repeated = { schemaVersion: 2, mediaType: OCI, config: configDescriptor, layers: [] };
    const one = JSON.stringify(layer(repeatDigest)).length + 1;
    repeated.layers = Array.from({ length: Math.floor((MAX - 300) / one) }, () => layer(repeatDigest));
    const repeatedBody = JSON.stringify(repeated);

    const cases = [
      [`${LAYERS} distinct refs, padded in layer annotations (${wideLayerPadded.length} B)`, wideLayerPadded],
      [`${LAYERS} distinct refs, padded in stored annotations (${wideStoredPadded.length} B)`, wideStoredPadded],
      [`${repeated.layers.length} copies of one layer (${repeatedBody.length} B)`, repeatedBody],
    ];
    for (const [i, [label, body]] of cases.entries()) {
      await measure(url, child.pid, label, () => pushManifest(url, "library/wide", `t${i}`, body));
    }
    console.log(`quiet GET of a manifest afterwards, 2000 sequential: ${await latencyLoop(url, 2000)}`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(server.dataDir, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
