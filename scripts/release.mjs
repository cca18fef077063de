// `npm run release [-- --out-dir DIR]`: the release artifact (issue 21), a tarball hosts unpack and run with nothing
// else installed:
//
//   release/berth-<version>-linux-<arch>.tar.gz (one top directory, berth-<version>/):
//     bin/berth, bin/berth-controller   sh wrappers that exec ../node/bin/node on ../app/dist/…/main.js
//     node/bin/node, node/LICENSE       the Node runtime this script runs on (process.execPath)
//     app/package.json, app/dist/…      the build (`npm run build:unchecked`: server, controller, migrations, web UI)
//     app/node_modules/…                the production dependencies only, copied from the installed tree
//     RELEASE.json                      version, commit, node version, arch, file count, packages
//   release/berth-<version>-linux-<arch>.tar.gz.sha256   (`sha256sum -c` format)
//
// It builds the committed HEAD, not the work tree: `git archive HEAD` into a temporary directory, `npm run
// build:unchecked` there (so uncommitted edits, stale files in dist/ and the checkout's own dist/ play no part, and
// tests running from dist/ meanwhile are not disturbed). No network: the production packages are the ones
// `npm ls --omit=dev --all` names in the installed node_modules (so `npm ci` first), which the build directory links.
// Reproducible: GNU tar with entries sorted by name, every mtime the commit's time (SOURCE_DATE_EPOCH when set),
// owner and group 0, normalised modes, and gzip without a name or time, so two builds of one commit with the same
// node_modules and Node give the same bytes.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  constants,
  copyFileSync,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGzip } from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ARCHES = { x64: "x64", arm64: "arm64" };
/** Shared libraries every Debian/Ubuntu host has (libc6, libstdc++6, libgcc-s1): all the runtime may link. */
const HOST_LIBRARIES = /^(linux-vdso|linux-gate|ld-linux[^/]*|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so/;

class ReleaseError extends Error {}

/** Stops the release with `message` (main prints it; the staging directory is removed on the way out). */
function fail(message) {
  throw new ReleaseError(message);
}

function parseArgs(argv) {
  const options = { outDir: path.join(root, "release") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out-dir" && argv[i + 1]) options.outDir = path.resolve(argv[++i]);
    else fail(`unknown argument ${argv[i]} (usage: npm run release [-- --out-dir DIR])`);
  }
  return options;
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
}

/** The commit and its time (the archive's mtimes). */
function sourceState() {
  let commit;
  try {
    commit = run("git", ["rev-parse", "HEAD"]).trim();
  } catch {
    fail("not a git checkout: the release records its commit and uses the commit's time as every file's mtime");
  }
  const epoch = process.env.SOURCE_DATE_EPOCH ?? run("git", ["log", "-1", "--format=%ct"]).trim();
  if (!/^\d+$/.test(epoch)) fail(`SOURCE_DATE_EPOCH must be seconds since 1970, not ${epoch}`);
  return { commit, epoch: Number(epoch) };
}

/** Refuses a runtime that needs more than the C/C++ runtime (e.g. Debian's nodejs, which links libnode and libuv). */
function checkRuntime(node) {
  let output;
  try {
    output = run("ldd", [node]);
  } catch {
    return; // statically linked ("not a dynamic executable")
  }
  const needed = [...output.matchAll(/^\s*(\S+)/gm)].map((match) => path.basename(match[1]));
  const foreign = needed.filter((library) => !HOST_LIBRARIES.test(library));
  if (foreign.length > 0) {
    fail(`${node} links ${foreign.join(", ")}, which hosts do not have: build the release with an official Node build (nodejs.org or NodeSource)`);
  }
}

/** Node's licence next to its binary: the official tarball's LICENSE, or where the distribution packages put it. */
function runtimeLicense(node) {
  const prefix = path.dirname(path.dirname(node));
  const candidates = [
    path.join(prefix, "LICENSE"),
    path.join(prefix, "share", "doc", "node", "LICENSE"),
    path.join(prefix, "share", "doc", "nodejs", "LICENSE"),
    "/usr/share/doc/nodejs/LICENSE",
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) fail(`Node's LICENSE not found (looked at ${candidates.join(", ")})`);
  return found;
}

/**
 * `source` (file, symlink or directory tree) copied to `target` (a reflink where the file system can). Not hard links:
 * a link made by another build meanwhile changes the file's ctime and GNU tar stops with "file changed as we read it".
 */
function place(source, target, skip = () => false) {
  const stat = lstatSync(source);
  mkdirSync(path.dirname(target), { recursive: true });
  if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
  else if (stat.isDirectory()) {
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(source)) if (!skip(name)) place(path.join(source, name), path.join(target, name));
  } else if (stat.isFile()) {
    copyFileSync(source, target, constants.COPYFILE_FICLONE);
  }
}

/** The production packages: `[relative path under the checkout, name@version]`, each once, sorted by path. */
function productionPackages(dir) {
  let output;
  try {
    output = run("npm", ["ls", "--omit=dev", "--all", "--parseable", "--long"], { cwd: dir });
  } catch (error) {
    fail(`npm ls found problems in node_modules (run npm ci first):\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  }
  const packages = new Map();
  for (const line of output.split("\n")) {
    const [absolute, id] = line.split(":");
    const relative = absolute ? path.relative(dir, absolute) : "";
    if (relative.startsWith("node_modules/")) packages.set(relative, id);
  }
  return [...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function wrapper(version, main) {
  return `#!/bin/sh
# Berth ${version}: runs its own Node runtime (../node/bin/node), whatever node the host has or lacks.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../node/bin/node" "$here/../app/dist/${main}" "$@"
`;
}

function countFiles(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    count += entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1;
  }
  return count;
}

/** GNU tar of `dir` inside `parent`, gzip'd into `file`; resolves to the archive's sha256. */
async function archive(parent, dir, file, epoch) {
  const tar = spawn(
    "tar",
    [
      "--create",
      "--format=gnu",
      "--sort=name",
      `--mtime=@${epoch}`,
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--mode=u+rwX,go=rX",
      "--hard-dereference",
      "--directory",
      parent,
      dir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve, reject) => {
    tar.once("error", reject);
    tar.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  const hash = createHash("sha256");
  const digest = new Transform({
    transform(chunk, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // Node's gzip header has no file name and a zero mtime. Level 6: level 9 takes ~2.5 times the CPU for 0.5% less.
  await Promise.all([pipeline(tar.stdout, createGzip({ level: 6 }), digest, createWriteStream(file)), exited]);
  return hash.digest("hex");
}

/** The commit's files in `dir`, linked to the installed node_modules, and built there. */
function buildCommit(commit, dir) {
  const modules = path.join(root, "node_modules");
  mkdirSync(dir);
  run("sh", ["-c", 'git archive --format=tar "$1" | tar -x -C "$2"', "git-archive", commit, dir]);
  symlinkSync(realpathSync(modules), path.join(dir, "node_modules"));
  // The same JavaScript as `npm run build` (isolatedModules: tsc emits each file alone); the types of a commit are
  // checked by `npm test`, which CI runs before anything is released, not a second time here.
  run("npm", ["run", "build:unchecked"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const arch = ARCHES[process.arch];
  if (process.platform !== "linux" || !arch) fail(`releases are built for linux x64 or arm64, not ${process.platform} ${process.arch}`);
  const source = sourceState();
  const node = realpathSync(process.execPath);
  checkRuntime(node);
  const license = runtimeLicense(node);
  if (!existsSync(path.join(root, "node_modules"))) fail("node_modules is missing: run npm ci first");

  mkdirSync(options.outDir, { recursive: true });
  const staging = mkdtempSync(path.join(options.outDir, ".staging-"));
  try {
    const src = path.join(staging, "src");
    buildCommit(source.commit, src);
    const { name, version } = JSON.parse(readFileSync(path.join(src, "package.json"), "utf8"));
    const packages = productionPackages(src);
    const top = `${name}-${version}`;
    const base = path.join(staging, top);
    const app = path.join(base, "app");
    place(path.join(src, "package.json"), path.join(app, "package.json"));
    place(path.join(src, "dist"), path.join(app, "dist"));
    // Each package without its own node_modules: the nested packages it needs are in the list themselves.
    for (const [relative] of packages) place(path.join(src, relative), path.join(app, relative), (entry) => entry === "node_modules");
    place(node, path.join(base, "node", "bin", "node"));
    place(license, path.join(base, "node", "LICENSE"));
    mkdirSync(path.join(base, "bin"));
    writeFileSync(path.join(base, "bin", "berth"), wrapper(version, "registry/main.js"), { mode: 0o755 });
    writeFileSync(path.join(base, "bin", "berth-controller"), wrapper(version, "controller/main.js"), { mode: 0o755 });
    const release = {
      name,
      version,
      commit: source.commit,
      sourceDate: new Date(source.epoch * 1000).toISOString(),
      platform: "linux",
      arch,
      node: process.version,
      // Regular files and symlinks in the tarball, RELEASE.json included.
      files: countFiles(base) + 1,
      packages: packages.map(([, id]) => id),
    };
    writeFileSync(path.join(base, "RELEASE.json"), `${JSON.stringify(release, null, 2)}\n`);

    const fileName = `${top}-linux-${arch}.tar.gz`;
    const partial = path.join(staging, fileName);
    const sha256 = await archive(staging, top, partial, source.epoch);
    renameSync(partial, path.join(options.outDir, fileName));
    writeFileSync(path.join(options.outDir, `${fileName}.sha256`), `${sha256}  ${fileName}\n`);
    process.stdout.write(`${path.join(options.outDir, fileName)}\n${sha256}  ${fileName}\n${release.files} files, node ${release.node}, ${packages.length} packages, commit ${source.commit}\n`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

await main().catch((error) => {
  process.stderr.write(`release: ${error instanceof ReleaseError ? error.message : error.stack}\n`);
  process.exitCode = 1;
});
