/**
 * The release artifact (issue 21) as `npm run release` writes it: built twice from this checkout's HEAD, read entry by
 * entry, then unpacked and run on this machine with a PATH that has no node, as a host without Node would run it.
 * Slow: two release builds (each `npm run build:unchecked` plus ~230 MB through gzip), run side by side.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import packageJson from "../../package.json";
import { releaseArtifact, type ReleaseArtifact } from "../../stacks/release";
import { seedPgliteDir } from "../support/database";
import { sharedRelease } from "../support/release-build";
import { ADMIN_CREDS, ADMIN_PASSWORD, prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { addDefaultDevices, chrootCommand, importRuntimeBase } from "../support/image-stages";
import { buildLayer, writeImage } from "../support/oci-image";
import { Podman, type ImageInspection } from "../support/podman";
import { copy, inspect } from "../support/skopeo";
import { describeWithTool, findTool, testIf } from "../support/tools";

const run = promisify(execFile);
const REPO = path.join(__dirname, "..", "..");
const TOP = `berth-${packageJson.version}`;
const ARCH = process.arch;
const RUNTIME_BASE = "localhost/berth-release-runtime-base:stand-in";

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
}

interface Release {
  version: string;
  commit: string;
  node: string;
  arch: string;
  platform: string;
  files: number;
  packages: string[];
}

/** Every entry's header, in archive order, and RELEASE.json's content: streamed, nothing else is kept. */
async function readArchive(file: string): Promise<{ entries: Entry[]; release: Release }> {
  const entries: Entry[] = [];
  let releaseText = "";
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    entries.push({ name: header.name, type: header.type ?? "file", mode: header.mode ?? 0, uid: header.uid ?? -1, gid: header.gid ?? -1, mtime: header.mtime?.getTime() ?? 0, size: header.size ?? 0 });
    if (header.name === `${TOP}/RELEASE.json`) stream.on("data", (chunk: Buffer) => (releaseText += chunk.toString("utf8")));
    stream.on("end", next);
    stream.resume();
  });
  await pipeline(createReadStream(file), createGunzip(), reader);
  return { entries, release: JSON.parse(releaseText) as Release };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** The names directly under node_modules folders, at any depth ("@scope/name" for scoped packages). */
function packageNames(entries: Entry[]): Set<string> {
  const names = new Set<string>();
  for (const { name } of entries) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/.exec(name);
    if (match && !match[1].includes("/node_modules/")) names.add(match[1]);
  }
  return names;
}

describe("the release artifact (npm run release; slow: two release builds)", () => {
  let work: string;
  let first: { artifact: ReleaseArtifact; entries: Entry[]; release: Release };
  let second: { artifact: ReleaseArtifact; entries: Entry[]; release: Release };
  let unpacked: string;
  let commit: string;
  let commitTime: number;

  /** `npm run release` into root/release, with root/package.json beside it as stacks/release.ts expects. */
  async function buildRelease(root: string) {
    await mkdir(root);
    await copyFile(path.join(REPO, "package.json"), path.join(root, "package.json"));
    await run("npm", ["run", "release", "--", "--out-dir", path.join(root, "release")], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    const artifact = releaseArtifact(root);
    return { artifact, ...(await readArchive(artifact.path)) };
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "berth-release-"));
    commit = (await run("git", ["rev-parse", "HEAD"], { cwd: REPO })).stdout.trim();
    commitTime = Number(process.env.SOURCE_DATE_EPOCH ?? (await run("git", ["log", "-1", "--format=%ct"], { cwd: REPO })).stdout.trim());
    // The first build is the one other suites share (test/support/release-build.ts); the second is this suite's own.
    const shared = async () => {
      const { artifact } = await sharedRelease();
      return { artifact, ...(await readArchive(artifact.path)) };
    };
    [first, second] = await Promise.all([shared(), buildRelease(path.join(work, "second"))]);
    unpacked = path.join(work, "unpacked");
    await mkdir(unpacked);
    await run("tar", ["-xzf", first.artifact.path, "-C", unpacked]);
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("is named after the version and arch, with a .sha256 file sha256sum -c accepts", async () => {
    expect(first.artifact.fileName).toBe(`berth-${packageJson.version}-linux-${ARCH}.tar.gz`);
    expect(first.artifact.sha256).toBe(await sha256Of(first.artifact.path));
    await run("sha256sum", ["-c", `${first.artifact.fileName}.sha256`], { cwd: path.dirname(first.artifact.path) });
  });

  it("holds one top directory with the wrappers, the runtime and its licence, the build and RELEASE.json", () => {
    const names = new Set(first.entries.map((entry) => entry.name));
    expect(first.entries.filter((entry) => !entry.name.startsWith(`${TOP}/`))).toEqual([]);
    for (const file of [
      "bin/berth",
      "bin/berth-controller",
      "node/bin/node",
      "node/LICENSE",
      "app/package.json",
      "app/dist/registry/main.js",
      "app/dist/controller/main.js",
      "app/dist/registry/db/migrations/001_init.sql",
      "app/dist/ui/index.html",
      "app/node_modules/fastify/package.json",
      "app/node_modules/@electric-sql/pglite/package.json",
      "RELEASE.json",
    ]) {
      expect(names).toContain(`${TOP}/${file}`);
    }
    // The build only: no TypeScript sources, tests or stacks.
    expect([...names].filter((name) => /^[^/]+\/app\/(registry|controller|test|stacks|ui)\//.test(name) || /^[^/]+\/app\/dist\/.*\.ts$/.test(name))).toEqual([]);
  });

  it("records version, commit, node version, arch and file count in RELEASE.json", () => {
    expect(first.release).toMatchObject({ version: packageJson.version, commit, node: process.version, arch: ARCH, platform: "linux" });
    expect(first.release.files).toBe(first.entries.filter((entry) => entry.type !== "directory").length);
  });

  it("has numeric owner 0, the commit's time (or SOURCE_DATE_EPOCH) as every mtime and no write permission but the owner's", () => {
    const odd = first.entries.filter((entry) => entry.uid !== 0 || entry.gid !== 0 || entry.mtime !== commitTime * 1000 || (entry.mode & 0o022) !== 0);
    expect(odd).toEqual([]);
  });

  it("carries the production dependencies only, each at the version RELEASE.json lists", async () => {
    // What npm itself counts as production: the dependencies and what they need, at any depth.
    const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable", "--long"], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    const production = new Set(stdout.split("\n").slice(1).filter(Boolean).map((line) => line.split(":")[1]));
    const productionNames = new Set([...production].map((id) => id.slice(0, id.lastIndexOf("@"))));
    const shipped = packageNames(first.entries);
    expect(shipped).toEqual(productionNames);
    expect(new Set(first.release.packages)).toEqual(production);
    for (const name of Object.keys(packageJson.dependencies)) expect(shipped).toContain(name);
    // Development dependencies stay out unless a production package needs them too (ldapts → @types/asn1 → @types/node).
    for (const name of ["jest", "oidc-provider", "playwright-core", "typescript", "esbuild", "@swc/core", "@pulumi/pulumi", "s3rver", "preact", "fast-check"]) {
      expect(shipped).not.toContain(name);
    }
    expect(Object.keys(packageJson.devDependencies).filter((name) => shipped.has(name) && !productionNames.has(name))).toEqual([]);
    // Each package is in the tarball where npm installed it, at its version: read back from its own package.json.
    for (const line of stdout.split("\n").slice(1).filter(Boolean)) {
      const [location, id] = line.split(":");
      const manifest = JSON.parse(await readFile(path.join(unpacked, TOP, "app", path.relative(REPO, location), "package.json"), "utf8")) as { name: string; version: string };
      expect(`${manifest.name}@${manifest.version}`).toBe(id);
    }
  });

  it("has executable wrappers that exec the bundled runtime on the build", async () => {
    for (const [wrapper, main] of [["berth", "registry"], ["berth-controller", "controller"]]) {
      const entry = first.entries.find((e) => e.name === `${TOP}/bin/${wrapper}`)!;
      expect(entry.mode & 0o777).toBe(0o755);
      expect((await stat(path.join(unpacked, TOP, "bin", wrapper))).mode & 0o777).toBe(0o755);
      const text = await readFile(path.join(unpacked, TOP, "bin", wrapper), "utf8");
      expect(text).toMatch(/^#!\/bin\/sh\n/);
      expect(text).toContain(`exec "$here/../node/bin/node" "$here/../app/dist/${main}/main.js" "$@"`);
    }
    expect(first.entries.find((e) => e.name === `${TOP}/node/bin/node`)!.mode & 0o777).toBe(0o755);
  });

  testIf(findTool("shellcheck") !== null, "shellcheck not on PATH")("has wrappers shellcheck finds nothing in", async () => {
    await run(findTool("shellcheck")!, [path.join(unpacked, TOP, "bin", "berth"), path.join(unpacked, TOP, "bin", "berth-controller")]);
  });

  it("is the same, byte for byte, when built twice from one commit", () => {
    expect(second.entries.map((entry) => entry.name)).toEqual(first.entries.map((entry) => entry.name));
    expect(second.release).toEqual(first.release);
    expect(second.entries).toEqual(first.entries);
    expect(second.artifact.sha256).toBe(first.artifact.sha256);
  });

  describeWithTool("skopeo", "unpacked and run with no node on PATH", () => {
    let noNodePath: string;
    let server: BerthProcess | undefined;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      // Only what the wrappers need (sh, dirname, readlink) and git, linked from this machine; not node.
      const bin = path.join(work, "no-node-bin");
      await mkdir(bin);
      for (const tool of ["sh", "dirname", "readlink", "git"]) await symlink(findTool(tool)!, path.join(bin, tool));
      noNodePath = bin;
      expect(findTool("node", noNodePath)).toBeNull();
      // Where hosts run it from: /opt/berth/current → /opt/berth/<version>.
      await symlink(path.join(unpacked, TOP), path.join(work, "current"));
    });

    afterAll(async () => {
      await server?.kill("SIGKILL");
      await cleanup?.();
    });

    it("runs its own Node, whose version RELEASE.json records", async () => {
      const { stdout } = await run(path.join(unpacked, TOP, "node", "bin", "node"), ["--version"], { env: { PATH: noNodePath } });
      expect(stdout.trim()).toBe(first.release.node);
      const help = await run(path.join(work, "current", "bin", "berth-controller"), ["--help"], { env: { PATH: noNodePath } });
      expect(help.stdout).toMatch(/usage: berth-controller/);
    });

    it("serves /api/v2.0/health and takes a skopeo push from bin/berth serve, on embedded PGlite in its own data dir", async () => {
      const environment = await prepareEnvironment({});
      cleanup = environment.cleanup;
      const { BERTH_DATABASE_URL: _postgres, ...env } = environment.env;
      // Created already (a copy of the test template): the artifact's Node opens and migrates it. Its initdb, a child
      // process of the bundled Node, runs in test/stacks/debian-root.test.ts, which starts the artifact on a fresh dir.
      await seedPgliteDir(path.join(environment.dataDir, "pg"));
      server = await spawnBerth({ ...env, PATH: noNodePath }, [path.join(work, "current", "bin", "berth"), "serve"]);
      // The server process is the bundled runtime (the wrapper exec'd it), not this machine's node.
      expect(await readlink(`/proc/${server.child.pid}/exe`)).toBe(await realpath(path.join(unpacked, TOP, "node", "bin", "node")));
      // No database URL: the embedded PGlite, under the data dir.
      expect((await stat(path.join(environment.dataDir, "pg"))).isDirectory()).toBe(true);

      const health = await fetch(`${server.url}/api/v2.0/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "healthy" });

      const layout = path.join(work, "layout");
      const image = await writeImage(layout, { tag: "v1", layers: [await buildLayer({ "etc/release": `${TOP}\n` })] });
      const reference = `docker://${server.host}/library/release-check:v1`;
      await copy(`oci:${layout}:v1`, reference, { destCreds: ADMIN_CREDS });
      expect((await inspect(reference, { creds: ADMIN_CREDS })).Digest).toBe(image.manifestDigest);
    }, 120_000);
  });
  describeWithTool("podman", "Containerfile.release built from it (npm run image:release; final stage with podman)", () => {
    let podman: Podman;
    let image: ImageInspection;
    let root: string;
    let server: BerthProcess | undefined;
    const tag = `localhost/berth:${packageJson.version}`;

    beforeAll(async () => {
      if (process.getuid?.() !== 0) throw new Error("this suite needs root: podman's own storage, chown and chroot");
      podman = await Podman.create(findTool("podman")!);
      // The base stage's stand-in has git, sh, dirname and readlink but no node: the image's only Node is the artifact's.
      await importRuntimeBase(podman, RUNTIME_BASE, { node: false });
      await run("npm", ["run", "image:release", "--", ...podman.storageOptions, "--layers=false", "--build-context", `runtime-base=container-image://${RUNTIME_BASE}`], {
        cwd: REPO,
        env: { ...process.env, RELEASE_ARTIFACT: first.artifact.path },
        maxBuffer: 64 * 1024 * 1024,
      });
      image = await podman.inspectImage(tag);
      root = await podman.imageRoot(tag);
      await addDefaultDevices(root);
    }, 300_000);

    afterAll(async () => {
      await server?.kill("SIGKILL");
      await podman?.remove();
    });

    it("runs bin/berth serve from /opt/berth as the fixed non-root user, with the artifact's Node for its healthcheck", async () => {
      expect(image.Config).toMatchObject({ User: "10001:10001", Cmd: ["berth", "serve"], WorkingDir: "/opt/berth" });
      expect(image.Config.Env).toEqual(expect.arrayContaining(["BERTH_DATA_DIR=/data", "BERTH_ADDR=0.0.0.0:5000", expect.stringMatching(/^PATH=\/opt\/berth\/bin:/)]));
      expect(image.Healthcheck?.Test).toEqual(["CMD", "/opt/berth/node/bin/node", "/opt/berth/app/dist/registry/ops/healthcheck.js"]);
      for (const file of ["bin/berth", "node/bin/node"]) {
        const info = await stat(path.join(root, "opt", "berth", file));
        expect({ uid: info.uid, mode: info.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 });
      }
      expect(JSON.parse(await readFile(path.join(root, "opt", "berth", "RELEASE.json"), "utf8"))).toEqual(first.release);
      // The artifact's Node is the image's only one.
      for (const other of ["usr/local/bin/node", "usr/bin/node"]) await expect(stat(path.join(root, other))).rejects.toThrow(/ENOENT/);
    });

    it("serves /api/v2.0/health from its command on the artifact's Node, and its healthcheck says so", async () => {
      server = await spawnBerth({}, chrootCommand(root, image, image.Config.Cmd!, { BERTH_ADDR: "127.0.0.1:0", BERTH_METRICS_ADDR: "127.0.0.1:0", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_CONTROLLER_REPO: "off" }));
      expect(await readlink(`/proc/${server.child.pid}/exe`)).toBe(await realpath(path.join(root, "opt", "berth", "node", "bin", "node")));
      const health = await fetch(`${server.url}/api/v2.0/health`);
      expect(health.status).toBe(200);
      const [command, ...args] = chrootCommand(root, image, image.Healthcheck!.Test.slice(1), { BERTH_ADDR: `0.0.0.0:${new URL(server.url).port}` });
      expect((await run(command, args)).stdout).toMatch(/^200 /);
    }, 120_000);
  });
});
