// Builds the web UI into dist/ui (run by `npm run build`): one hashed script and one hashed stylesheet bundled by
// esbuild from ui/main.tsx, an index.html naming them (no inline script or style, for the strict CSP), and .gz/.br
// copies the server sends to browsers that accept them. Fails when the first load exceeds its budget.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, "..", "dist", "ui");
/** Compressed bytes the browser fetches for the first page (issue 17: under 300 KB). */
const FIRST_LOAD_BUDGET = 300 * 1024;

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, "assets"), { recursive: true });

const result = await build({
  entryPoints: { app: path.join(root, "main.tsx") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  outdir: path.join(out, "assets"),
  metafile: true,
  legalComments: "none",
  // The release build links node_modules into its build directory: resolving through the link would put the
  // installed tree's path, relative to wherever the build runs, into the hashed file names (issue 21: reproducible).
  preserveSymlinks: true,
  logLevel: "warning",
});

const files = Object.keys(result.metafile.outputs).map((file) => path.resolve(file));
const script = files.find((file) => file.endsWith(".js"));
const style = files.find((file) => file.endsWith(".css"));
if (!script || !style) throw new Error("esbuild produced no script or no stylesheet");

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/${path.basename(style)}">
<script type="module" src="/ui/assets/${path.basename(script)}"></script>
</head>
<body>
<noscript>Berth's web interface needs JavaScript; the API at /api/v2.0 works without it.</noscript>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(path.join(out, "index.html"), html);

let firstLoad = 0;
const rows = [];
for (const file of [path.join(out, "index.html"), ...files]) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 });
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(`${file}.br`, br);
  firstLoad += gz.length;
  rows.push(`  ${path.relative(out, file)}: ${bytes.length} B, gzip ${gz.length} B, brotli ${br.length} B`);
}
console.log(`web UI built into ${path.relative(process.cwd(), out) || out}:\n${rows.join("\n")}`);
console.log(`  first load: ${firstLoad} B gzip (budget ${FIRST_LOAD_BUDGET} B)`);
if (firstLoad > FIRST_LOAD_BUDGET) {
  console.error(`the web UI's first load is ${firstLoad} B compressed, over its ${FIRST_LOAD_BUDGET} B budget`);
  process.exit(1);
}
