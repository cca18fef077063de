import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { releaseArtifact, type ReleaseArtifact } from "../../stacks/release";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "../..");
const WAIT_MS = 15 * 60_000;

const exists = (file: string) => stat(file).then(() => true, () => false);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm run release` of this checkout's HEAD, built once per commit and shared by the suites that need an artifact
 * (each build is `npm run build:unchecked` plus ~230 MB through gzip). Jest runs those suites in parallel workers: the
 * first takes a lock directory holding its pid and builds, the others wait for its `done` marker; a lock whose builder
 * died is taken over. `npm run release` packages HEAD, not the work tree, so the commit names what is in it.
 */
export async function sharedRelease(): Promise<{ root: string; artifact: ReleaseArtifact }> {
  const commit = (await run("git", ["rev-parse", "HEAD"], { cwd: REPO })).stdout.trim();
  const root = path.join(tmpdir(), `berth-release-${commit}`);
  const lock = `${root}.lock`;
  const done = path.join(root, "done");
  const deadline = Date.now() + WAIT_MS;
  while (!(await exists(done))) {
    if (Date.now() > deadline) throw new Error(`no release build of ${commit} finished within ${WAIT_MS / 60_000} min (lock ${lock})`);
    try {
      await mkdir(lock);
    } catch {
      const owner = Number(await readFile(path.join(lock, "pid"), "utf8").catch(() => "0"));
      if (owner > 0 && !alive(owner)) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    try {
      await writeFile(path.join(lock, "pid"), String(process.pid));
      await rm(root, { recursive: true, force: true });
      await mkdir(root);
      await copyFile(path.join(REPO, "package.json"), path.join(root, "package.json"));
      await run("npm", ["run", "release", "--", "--out-dir", path.join(root, "release")], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
      await writeFile(done, commit);
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
  return { root, artifact: releaseArtifact(root) };
}
