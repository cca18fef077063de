// Preload for a soak's nodes (SOAK_NODE_OPTIONS="-r <repo>/bench/rss-jump-probe.cjs" bench/soak.sh): every 50 ms it
// compares process.memoryUsage() with the previous sample and, when RSS grew by more than RSS_JUMP_MB (default 40 MB),
// writes both samples to the node's log. Whether heapTotal, external or arrayBuffers grew with it says whether the
// memory is V8's, Buffers', or native memory outside both (scrypt, zlib, the allocator).
"use strict";
const limit = Number(process.env.RSS_JUMP_MB || 40) * 1e6;
let last = process.memoryUsage();
setInterval(() => {
  const now = process.memoryUsage();
  if (now.rss - last.rss > limit) process.stderr.write(`RSS-JUMP ${Date.now()} ${JSON.stringify({ before: last, now })}\n`);
  last = now;
}, 50).unref();
