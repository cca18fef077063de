// `node scripts/run-parallel.mjs SCRIPT…`: runs the package's npm scripts at once and fails when any of them fails.
// `npm test` type-checks and builds this way: both are single-threaded tsc runs, so on two cores they overlap. Each
// script's output is printed whole when it ends, so two compilers' errors never interleave.
import { spawn } from "node:child_process";

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  process.stderr.write("usage: node scripts/run-parallel.mjs SCRIPT [SCRIPT…]\n");
  process.exit(2);
}

function runScript(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn("npm", ["run", "--silent", name], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => (output += `${error.message}\n`));
    child.on("close", (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${output}npm run ${name}: ${code === 0 ? "ok" : `failed (exit ${code})`} in ${seconds} s\n`);
      resolve(code === 0);
    });
  });
}

const results = await Promise.all(scripts.map(runScript));
process.exit(results.every(Boolean) ? 0 : 1);
