#!/usr/bin/env node
// Bytes Berth writes to S3 per byte pushed, and push times, for one or more built checkouts, runs interleaved so a
// shared machine's load falls on all of them alike (issue 20).
//
//   node bench/s3-writes.mjs [ROUNDS] CHECKOUT...      e.g. node bench/s3-writes.mjs 3 /tmp/base .
//
// Each round starts, for each checkout in turn, a fresh s3rver, a counting HTTP proxy in front of it and
// `node CHECKOUT/dist/registry/main.js serve` (embedded PGlite, blobs in s3rver through the proxy), then pushes with fetch:
//   monolithic  one POST ?digest= with a 256 MiB body
//   patch+put   POST, one streamed PATCH of 256 MiB (no Content-Length, as skopeo and docker send it), PUT ?digest=
//   chunked     POST, PATCHes of 7, 11, 13, 9, 17 and 7 MiB, PUT ?digest=
//   50 x 1 MiB  POST, PATCH, PUT for each, one after another; and the same with streamed PATCHes, 6 at a time (as skopeo)
// and prints per checkout and workload the median time, PUT body bytes through the proxy / bytes pushed (written
// once = 1.00), and server-side copies per blob. Needs the checkout's node_modules (s3rver) and a built dist/.
import { spawn } from "node:child_process";
import { createHash, randomFillSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args[0] ?? "") ? Number(args.shift()) : 3;
const checkouts = args.length > 0 ? args.map((dir) => path.resolve(dir)) : [process.cwd()];
const MiB = 1024 * 1024;
const PASSWORD = `bench-${randomBytes(6).toString("hex")}`;
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;

function bytesOf(seed, size) {
  const out = Buffer.allocUnsafe(size);
  randomFillSync(out);
  out.write(seed); // distinct content per workload and round
  return out;
}
const sha256 = (buffer) => `sha256:${createHash("sha256").update(buffer).digest("hex")}`;

/**
 * s3rver and, in front of it, an HTTP proxy that counts PUT body bytes (PutObject, UploadPart) and copies
 * (x-amz-copy-source), in a process of their own (as in bench/run.sh), so they do not share the client's event loop.
 * GET /__counts on the proxy answers the counts and resets them.
 */
const S3_AND_PROXY = `
const S3rver = require(process.argv[1]);
const { createServer, request } = require("node:http");
const counts = { written: 0, copies: 0, requests: {} };
new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: process.argv[2], configureBuckets: [{ name: "bench" }] }).run().then(({ port }) => {
  const proxy = createServer((incoming, outgoing) => {
    if (incoming.url === "/__counts") {
      outgoing.end(JSON.stringify(counts));
      counts.written = 0;
      counts.copies = 0;
      counts.requests = {};
      return;
    }
    const query = [...new URL(incoming.url, "http://s3").searchParams.keys()].filter((key) => key !== "x-id").sort().join("&");
    const kind = incoming.method + (query ? "?" + query : "") + (incoming.headers["x-amz-copy-source"] ? " copy" : "");
    counts.requests[kind] = (counts.requests[kind] ?? 0) + 1;
    let bytes = 0;
    incoming.on("data", (chunk) => (bytes += chunk.length));
    const forwarded = request({ host: "127.0.0.1", port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      if (incoming.method === "PUT" && answer.statusCode < 300) {
        if (incoming.headers["x-amz-copy-source"] !== undefined) counts.copies += 1;
        else counts.written += bytes;
      }
      outgoing.writeHead(answer.statusCode, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  proxy.listen(0, "127.0.0.1", () => console.log(proxy.address().port));
});`;

async function startS3(checkout, directory) {
  const child = spawn(process.execPath, ["-e", S3_AND_PROXY, createRequire(path.join(checkout, "package.json")).resolve("s3rver"), directory], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk) => resolve(Number(String(chunk).trim())));
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code})`)));
  });
  return {
    port,
    counts: async () => (await fetch(`http://127.0.0.1:${port}/__counts`)).json(),
    close: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM"))),
  };
}

async function startBerth(checkout, s3Port, dataDir) {
  const child = spawn(process.execPath, [path.join(checkout, "dist", "registry", "main.js"), "serve"], {
    env: {
      ...process.env,
      BERTH_ADDR: "127.0.0.1:0",
      BERTH_METRICS_ADDR: "off",
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_LOG_LEVEL: "info",
      BERTH_CONTROLLER_REPO: "off",
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      BERTH_S3_BUCKET: "bench",
      BERTH_S3_ACCESS_KEY: "S3RVER",
      BERTH_S3_SECRET_KEY: "S3RVER",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = /"msg":"berth is ready".*?"url":"([^"]+)"|"url":"([^"]+)"[^\n]*"msg":"berth is ready"/.exec(seen);
      if (match) resolve(match[1] ?? match[2]);
    });
    child.once("exit", (code) => reject(new Error(`berth exited (${code}) before it was ready`)));
  });
  child.stdout.resume();
  return { url, stop: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM"))) };
}

async function call(url, init, expected) {
  const response = await fetch(url, { ...init, headers: { Authorization: AUTH, ...init.headers } });
  await response.arrayBuffer();
  if (response.status !== expected) throw new Error(`${init.method} ${url}: ${response.status}, expected ${expected}`);
  return response;
}

async function chunkedPush(base, repository, content, pieces) {
  const started = await call(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST" }, 202);
  let location = new URL(started.headers.get("location"), base).toString();
  let offset = 0;
  for (const size of pieces) {
    const piece = content.subarray(offset, offset + size);
    const headers = { "Content-Type": "application/octet-stream", "Content-Range": `${offset}-${offset + size - 1}` };
    const patched = await call(location, { method: "PATCH", headers, body: piece }, 202);
    location = new URL(patched.headers.get("location"), base).toString();
    offset += size;
  }
  const put = new URL(location);
  put.searchParams.set("digest", sha256(content));
  await call(put.toString(), { method: "PUT" }, 201);
}

/** One PATCH whose body is a stream (chunked transfer, no Content-Length). */
async function streamedPush(base, repository, content) {
  const started = await call(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST" }, 202);
  const location = new URL(started.headers.get("location"), base).toString();
  const body = new ReadableStream({
    start(controller) {
      for (let offset = 0; offset < content.length; offset += MiB) controller.enqueue(content.subarray(offset, offset + MiB));
      controller.close();
    },
  });
  const start = performance.now();
  const patched = await call(location, { method: "PATCH", headers: { "Content-Type": "application/octet-stream" }, body, duplex: "half" }, 202);
  const put = new URL(patched.headers.get("location"), base);
  put.searchParams.set("digest", sha256(content));
  const patchedAt = performance.now();
  await call(put.toString(), { method: "PUT" }, 201);
  if (process.env.REQUESTS) process.stderr.write(`  PATCH ${((patchedAt - start) / 1000).toFixed(2)} s, PUT ${((performance.now() - patchedAt) / 1000).toFixed(2)} s\n`);
}

const only = process.env.WORKLOADS ? new RegExp(process.env.WORKLOADS) : null;
const workloads = [
  ["monolithic 256 MiB", 256 * MiB, async (base, content) => {
    await call(`${base}/v2/library/mono/blobs/uploads/?digest=${sha256(content)}`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: content }, 201);
  }],
  ["patch+put 256 MiB", 256 * MiB, (base, content) => streamedPush(base, "library/stream", content)],
  ["chunked 64 MiB", 64 * MiB, (base, content) => chunkedPush(base, "library/chunked", content, [7, 11, 13, 9, 17, 7].map((mib) => mib * MiB))],
  ["50 x 1 MiB", 50 * MiB, async (base, content) => {
    for (let i = 0; i < 50; i++) await chunkedPush(base, "library/many", content.subarray(i * MiB, (i + 1) * MiB), [MiB]);
  }],
  ["50 x 1 MiB streamed, 6 at a time", 50 * MiB, async (base, content) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 50; i = next++) await streamedPush(base, "library/many-streamed", content.subarray(i * MiB, (i + 1) * MiB));
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  }],
];

const results = new Map(); // `${checkout}\t${workload}` → [{ seconds, ratio, copies }]
for (let round = 1; round <= rounds; round++) {
  for (const checkout of checkouts) {
    const work = mkdtempSync(path.join(tmpdir(), "berth-s3-writes-"));
    const s3 = await startS3(checkout, path.join(work, "s3"));
    const berth = await startBerth(checkout, s3.port, path.join(work, "data"));
    try {
      for (const [name, size, run] of workloads.filter(([name]) => only === null || only.test(name))) {
        const content = bytesOf(`${round}-${checkout}-${name}`, size);
        await s3.counts(); // resets them
        const start = performance.now();
        await run(berth.url, content);
        const seconds = (performance.now() - start) / 1000;
        const counts = await s3.counts();
        const key = `${checkout}\t${name}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push({ seconds, ratio: counts.written / size, copies: counts.copies });
        process.stderr.write(`[s3-writes] round ${round} ${path.basename(checkout)} ${name}: ${seconds.toFixed(2)} s, written/pushed ${(counts.written / size).toFixed(3)}, copies ${counts.copies}\n`);
        if (process.env.REQUESTS) process.stderr.write(`  S3 requests: ${JSON.stringify(counts.requests)}\n`);
      }
    } finally {
      await berth.stop();
      await s3.close();
      rmSync(work, { recursive: true, force: true });
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`rounds=${rounds}; load average at the end: ${(await import("node:os")).loadavg().map((value) => value.toFixed(1)).join(" ")}`);
console.log(["checkout", "workload", "median s", "min-max s", "written/pushed", "copies"].join("\t"));
for (const [key, runs] of results) {
  const seconds = runs.map((run) => run.seconds);
  console.log([key, median(seconds).toFixed(2), `${Math.min(...seconds).toFixed(2)}-${Math.max(...seconds).toFixed(2)}`, median(runs.map((run) => run.ratio)).toFixed(3), median(runs.map((run) => run.copies))].join("\t"));
}
