import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, opendir, writeFile } from "node:fs/promises";
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
 * many entries changed.
 */
export async function privatizeTree(dir: string): Promise<number> {
  let changed = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for await (const entry of await opendir(current)) {
      const file = path.join(current, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) pending.push(file);
      const { mode } = await lstat(file);
      if ((mode & GROUP_OTHER) !== 0) {
        await chmod(file, mode & 0o7700);
        changed++;
      }
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
    const tightened = await privatizeTree(dataDir);
    await writeFile(marker, "group and other permissions were removed from everything below this directory\n", { mode: 0o600 });
    return { tightened, problem: null };
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== "EPERM" && code !== "EACCES") throw error;
    return { tightened: 0, problem: `cannot make ${dataDir} private (${code}): chmod -R go-rwx it as its owner` };
  }
}
