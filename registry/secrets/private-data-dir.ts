import { chmodSync, existsSync, lstatSync, opendirSync } from "node:fs";
import { chmod, lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** Files and directories this process creates are readable by its own user only (0600 and 0700). */
export const PRIVATE_UMASK = 0o077;

/** Written once the whole data directory has been made private, so that later starts skip the walk. */
export const PRIVATE_MARKER = ".private-v1";

const GROUP_OTHER = 0o077;

/**
 * Everything this process creates from now on is private: PGlite's database files and WAL, blobs and uploads, the
 * lock file, the secret key. PGlite asks for 0666 and the blob store for the defaults; the umask is what trims them.
 */
export function restrictFileCreation(): void {
  process.umask(PRIVATE_UMASK);
}

/**
 * Drops group and other bits below `dir` (symbolic links are left alone: they are not ours to change); returns how
 * many entries changed. Synchronous on purpose: it runs before the server listens, and one syscall after another
 * without a thread-pool round trip each is about five times faster on a blob store of 100 000 files.
 */
export function privatizeTree(dir: string): number {
  let changed = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = opendirSync(current);
    try {
      for (let entry = entries.readSync(); entry !== null; entry = entries.readSync()) {
        const file = path.join(current, entry.name);
        if (entry.isSymbolicLink()) continue;
        if (entry.isDirectory()) pending.push(file);
        const { mode } = lstatSync(file);
        if ((mode & GROUP_OTHER) !== 0) {
          chmodSync(file, mode & 0o7700);
          changed++;
        }
      }
    } finally {
      entries.closeSync();
    }
  }
  return changed;
}

export interface PrivateDataDir {
  /** Files and directories whose group/other permissions were dropped on this start (an upgrade). */
  tightened: number;
  /** Why the directory could not be made private (it belongs to another user), or null. */
  problem: string | null;
}

/**
 * Creates the data directory 0700, or makes an existing one (from a version that created files 0644/0666) private:
 * the directory itself on every start, everything below it once — the walk costs a stat per file, so a marker file
 * records that it was done. A directory this user does not own (a mounted volume) is reported, not fatal.
 */
export async function makeDataDirPrivate(dataDir: string): Promise<PrivateDataDir> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    const { mode } = await lstat(dataDir);
    if ((mode & GROUP_OTHER) !== 0) await chmod(dataDir, mode & 0o7700);
    const marker = path.join(dataDir, PRIVATE_MARKER);
    if (existsSync(marker)) return { tightened: 0, problem: null };
    const tightened = privatizeTree(dataDir);
    await writeFile(marker, "group and other permissions were removed from everything below this directory\n", { mode: 0o600 });
    return { tightened, problem: null };
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== "EPERM" && code !== "EACCES") throw error;
    return { tightened: 0, problem: `cannot make ${dataDir} private (${code}): chmod -R go-rwx it as its owner` };
  }
}
