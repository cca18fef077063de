/**
 * A minimal Debian 12 (bookworm) root filesystem, as a stock Debian host has it and nothing more: built by
 * `mmdebstrap --variant=minbase bookworm` from Debian's mirror (Essential packages and apt: no Node, no npm, no curl),
 * cached as a tarball under ${TMPDIR}/berth-debian-root, one per day, so a test run builds it once. Each test unpacks
 * its own copy and runs commands in it with chroot; /proc and /dev are mounted into it (and unmounted by `remove`).
 * chroot, mount and the unpacked root's owners need root.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const SUITE = "bookworm";

/** The cached root tarball of today, built first when it is not there yet (older days' tarballs are removed). */
export async function debianRootTarball(): Promise<string> {
  const cache = path.join(tmpdir(), "berth-debian-root");
  const name = `${SUITE}-minbase-${new Date().toISOString().slice(0, 10)}.tar`;
  const tarball = path.join(cache, name);
  if (existsSync(tarball)) return tarball;
  await mkdir(cache, { recursive: true });
  // Built under a name of its own and renamed into place, so a parallel suite never reads half a tarball.
  const partial = path.join(cache, `partial-${process.pid}-${name}`);
  try {
    await run("mmdebstrap", ["--quiet", "--variant=minbase", "--format=tar", SUITE, partial], { maxBuffer: 16 * 1024 * 1024 });
    await rename(partial, tarball);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  for (const old of await readdir(cache)) {
    if (old !== name && !old.startsWith("partial-")) await rm(path.join(cache, old), { recursive: true, force: true });
  }
  return tarball;
}

export interface DebianRoot {
  /** The root directory on this machine. */
  dir: string;
  /** `chroot <dir> <command…>` as an argument list (for spawn/execFile). */
  chroot(command: string[]): string[];
  /** Runs `command` in the root; resolves to its stdout, rejects with its stderr when it fails. */
  exec(command: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<string>;
  /** Unmounts /proc and /dev and deletes the root. */
  remove(): Promise<void>;
}

/** A fresh copy of the Debian 12 root, with /proc and /dev mounted. */
export async function createDebianRoot(): Promise<DebianRoot> {
  const tarball = await debianRootTarball();
  const dir = await mkdtemp(path.join(tmpdir(), "berth-debian-"));
  const mounted: string[] = [];
  const remove = async () => {
    for (const point of mounted.reverse()) await run("umount", ["--lazy", point]).catch(() => undefined);
    mounted.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run("tar", ["-xf", tarball, "-C", dir, "--numeric-owner"]);
    await run("mount", ["-t", "proc", "proc", path.join(dir, "proc")]);
    mounted.push(path.join(dir, "proc"));
    await run("mount", ["--bind", "/dev", path.join(dir, "dev")]);
    mounted.push(path.join(dir, "dev"));
  } catch (error) {
    await remove();
    throw error;
  }
  const chroot = (command: string[]) => ["chroot", dir, ...command];
  return {
    dir,
    chroot,
    exec: (command, options = {}) =>
      new Promise((resolve, reject) => {
        const [file, ...args] = chroot(command);
        const child = execFile(file, args, { env: options.env ?? { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          if (error) reject(Object.assign(new Error(`${command.join(" ")} failed in the Debian root: ${stderr || error.message}`), { code: error.code, stdout, stderr }));
          else resolve(stdout);
        });
        // A command that reads no input may be gone before it is written: its exit status is what counts.
        child.stdin!.on("error", () => undefined);
        child.stdin!.end(options.input ?? "");
      }),
    remove,
  };
}
