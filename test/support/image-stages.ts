/**
 * Stand-ins for the two Containerfile stages that run commands, which a machine whose podman cannot run containers
 * (nor pull the node base image) cannot build. The final stage, which only copies from them, is then built for
 * real with `--build-context build=<dir>` and `--build-context runtime-base=container-image://<image>`.
 */
import { execFile } from "node:child_process";
import { chmod, chown, copyFile, link, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { IMAGE_DATA_DIR, IMAGE_USER_ID } from "../../stacks/image";
import type { ImageInspection, Podman } from "./podman";

const run = promisify(execFile);
const REPO = path.join(__dirname, "..", "..");

/** The shared libraries `ldd` says a binary loads, the dynamic loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run("ldd", [binary]);
  return [...stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((match) => match[1]);
}

/** `source` at `target` inside `root`, as a hard link when possible (node alone is ~100 MB). */
async function place(root: string, source: string, target = source): Promise<void> {
  const destination = path.join(root, target);
  await mkdir(path.dirname(destination), { recursive: true });
  const real = await realpath(source);
  await link(real, destination).catch(() => copyFile(real, destination));
}

/**
 * The `runtime-base` stage from this machine's binaries: node (at /usr/local/bin, as in the node image), git with
 * its helpers and /bin/sh (local clones run git-upload-pack through it), /usr/bin/env for the commands'
 * `#!/usr/bin/env node`, dirname and readlink (the release artifact's bin/ wrappers), each with the libraries it
 * links; the berth user and group, /data owned by them, and the `berth`/`berth-controller` links. No
 * ca-certificates: the test reaches nothing over https. Imported as `reference`. Without `node` (Containerfile.release,
 * whose artifact brings its own): neither node nor the links.
 */
export async function importRuntimeBase(podman: Podman, reference: string, { node = true } = {}): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), "berth-runtime-base-"));
  try {
    const root = path.join(work, "root");
    const binaries = ["/usr/bin/env", "/usr/bin/git", "/bin/sh", "/usr/bin/dirname", "/usr/bin/readlink"];
    if (node) await place(root, process.execPath, "/usr/local/bin/node");
    for (const binary of binaries) await place(root, binary);
    // node's libraries even without node: libc and libstdc++, which the Debian base has (apt needs them).
    const libraries = await Promise.all([process.execPath, ...binaries].map(sharedLibraries));
    for (const library of new Set(libraries.flat())) await place(root, library);
    await mkdir(path.join(root, "usr", "lib"), { recursive: true });
    await mkdir(path.join(root, "usr", "share", "git-core"), { recursive: true });
    await run("cp", ["-a", "/usr/lib/git-core", path.join(root, "usr", "lib")]);
    await run("cp", ["-a", "/usr/share/git-core/templates", path.join(root, "usr", "share", "git-core")]);
    const id = IMAGE_USER_ID;
    await mkdir(path.join(root, "etc"));
    await writeFile(path.join(root, "etc", "passwd"), `root:x:0:0:root:/root:/usr/sbin/nologin\nberth:x:${id}:${id}::/app:/usr/sbin/nologin\n`);
    await writeFile(path.join(root, "etc", "group"), `root:x:0:\nberth:x:${id}:\n`);
    await mkdir(path.join(root, IMAGE_DATA_DIR));
    await chown(path.join(root, IMAGE_DATA_DIR), id, id);
    await mkdir(path.join(root, "tmp"));
    await chmod(path.join(root, "tmp"), 0o1777);
    if (node) {
      await symlink("/app/dist/registry/main.js", path.join(root, "usr", "local", "bin", "berth"));
      await symlink("/app/dist/controller/main.js", path.join(root, "usr", "local", "bin", "berth-controller"));
    }
    const tarball = path.join(work, "root.tar");
    await run("tar", ["-C", root, "-cf", tarball, "."]);
    // The node image's settings that the final stage inherits or must replace.
    const settings = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'ENTRYPOINT ["docker-entrypoint.sh"]', 'CMD ["node"]'];
    await podman.run(["import", ...settings.flatMap((setting) => ["--change", setting]), tarball, reference]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The production packages' folders directly under node_modules (each keeps what is nested in it). */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  const top = /^node_modules\/(@[^/]+\/)?[^/]+$/;
  return [...new Set(stdout.split("\n").map((line) => path.relative(REPO, line)))].filter((relative) => top.test(relative));
}

/**
 * The `build` stage's /app, from this checkout (dist/ from `npm run build`) instead of a fresh `npm ci`: package.json,
 * dist/ and node_modules with only the production packages (as `npm prune --omit=dev` leaves it), all hard links.
 * Returns the directory to pass as `--build-context build=`.
 */
export async function prepareBuildStage(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-build-stage-"));
  const app = path.join(dir, "app");
  await mkdir(app);
  const sources = ["package.json", "dist", ...(await productionPackages())];
  // --parents keeps each source's path below the checkout; -l links instead of copying, where one file system allows.
  await run("cp", ["-al", "--parents", ...sources, app], { cwd: REPO }).catch(() => run("cp", ["-a", "--parents", ...sources, app], { cwd: REPO }));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * What a container engine gives every container and chroot does not, made in an image's root filesystem: the OCI
 * runtime's default devices (git opens /dev/null and reads /dev/urandom).
 */
export async function addDefaultDevices(root: string): Promise<void> {
  await mkdir(path.join(root, "dev"), { recursive: true });
  for (const [name, minor] of Object.entries({ null: 3, zero: 5, full: 7, random: 8, urandom: 9 })) {
    await run("mknod", ["-m", "666", path.join(root, "dev", name), "c", "1", String(minor)]);
  }
}

/** `command` in `image`'s root filesystem `root` as its user, in its working directory, with its environment plus `env`. */
export function chrootCommand(root: string, image: ImageInspection, command: string[], env: Record<string, string> = {}): string[] {
  const variables = [...(image.Config.Env ?? []), ...Object.entries(env).map(([name, value]) => `${name}=${value}`)];
  const [user, group] = image.Config.User!.split(":");
  return ["chroot", `--userspec=${user}:${group}`, root, "/usr/bin/env", "-i", "-C", image.Config.WorkingDir!, ...variables, ...command];
}
