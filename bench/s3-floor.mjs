#!/usr/bin/env node
// What the S3 server alone takes for the big layer, without Berth: the floor under Berth's pushes and pulls on S3
// (issue 20). BENCH_STORAGE=s3 bench/run.sh runs it against the same s3rver, in the same run.
//
//   node bench/s3-floor.mjs ENDPOINT BUCKET FILE RUNS PART_MIB
//
// Each run uploads FILE with one multipart upload of PART_MIB parts, one part in flight at a time (as Berth's upload
// session sends them), then GETs it back whole; prints one line per run, "put SECONDS get SECONDS". The times are
// taken in this process, so Node's start is not in them. Access key and secret are s3rver's defaults.
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [endpoint, bucket, file, runs = "5", partMib = "8"] = process.argv.slice(2);
if (!endpoint || !bucket || !file) {
  console.error("usage: node bench/s3-floor.mjs ENDPOINT BUCKET FILE [RUNS] [PART_MIB]");
  process.exit(2);
}
const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), "..", "package.json"));
const { S3Client, GetObjectCommand, DeleteObjectCommand } = require("@aws-sdk/client-s3");
const { Upload } = require("@aws-sdk/lib-storage");
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
for (let i = 0; i < Number(runs); i++) {
  const key = `floor/${Date.now()}-${i}`;
  let start = performance.now();
  const body = createReadStream(file, { highWaterMark: 1024 * 1024 });
  await new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: Number(partMib) * 1024 * 1024, queueSize: 1 }).done();
  const put = (performance.now() - start) / 1000;
  start = performance.now();
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  for await (const _ of got.Body);
  const get = (performance.now() - start) / 1000;
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  console.log(`put ${put.toFixed(3)} get ${get.toFixed(3)}`);
}
