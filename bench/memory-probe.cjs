// Loaded with `node -r` by bench/memory.sh: on SIGUSR2 the process prints one JSON line with its memory figures and
// how many modules each package has loaded, so the bench sees inside the process without changing Berth.
"use strict";
process.on("SIGUSR2", () => {
  const packages = {};
  for (const file of Object.keys(require.cache)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const name = match ? match[1] : "(berth)";
    packages[name] = (packages[name] ?? 0) + 1;
  }
  const memory = process.memoryUsage();
  process.stderr.write(`BERTH-MEMORY ${JSON.stringify({ ...memory, packages })}\n`);
});
