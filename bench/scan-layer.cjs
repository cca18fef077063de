// Driver for bench/scan-layer.sh: reads one layer blob with the built scanner (dist/) and prints the time it took
// and what it found. Usage: node bench/scan-layer.cjs <layer.tar.gz>
"use strict";
const { createReadStream } = require("node:fs");
const path = require("node:path");
const { inventoryOfLayer, squashLayers } = require(path.join(__dirname, "../dist/registry/scanning/layers/index.js"));

async function main() {
  const file = process.argv[2];
  const started = process.hrtime.bigint();
  const layer = await inventoryOfLayer(createReadStream(file, { highWaterMark: 1024 * 1024 }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const inventory = squashLayers([layer]);
  const byEcosystem = {};
  for (const pkg of inventory.packages) byEcosystem[pkg.ecosystem] = (byEcosystem[pkg.ecosystem] || 0) + 1;
  const skipped = Object.values(layer.files).filter((entry) => entry.skipped).length;
  process.stdout.write(
    JSON.stringify({ seconds, files: Object.keys(layer.files).length, skipped, distribution: inventory.distribution, packages: byEcosystem, rssMB: process.memoryUsage().rss / 1e6 }) + "\n",
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
