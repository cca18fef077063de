import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Who holds a data directory: enough to tell a live holder from a dead one whose pid was reused. */
interface LockHolder {
  pid: number;
  /** The process's start time as the kernel counts it (Linux /proc), null where it cannot be read. */
  started: string | null;
  /** The berth command that took the lock (serve, doctor). */
  command: string;
}

/** Another live process has the embedded database open: PGlite must never be opened by two processes at once. */
export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly holder: LockHolder) {
    super(
      `the embedded database in ${dataDir} is in use by \`berth ${holder.command}\` (pid ${holder.pid}): ` +
        `stop that process first, or set BERTH_DATA_DIR to another directory`,
    );
  }
}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = "berth.lock";

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); the command name before it may hold spaces. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid lives, but after a crash it may belong to another process now (a container restarts its server as pid 1).
  const started = processStartTime(holder.pid);
  return holder.started === null || started === null || started === holder.started;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return Number.isInteger(value.pid) && value.pid! > 0 ? { pid: value.pid!, started: value.started ?? null, command: String(value.command ?? "serve") } : null;
  } catch {
    return null;
  }
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Takes `<dataDir>/berth.lock` for this process. The file appears whole or not at all (written aside, then
 * hard-linked into place, which fails if it exists). A lock whose process is gone — killed with SIGKILL, or its pid
 * reused — is moved aside and taken over; the move is checked so that two starters cannot both take over one stale
 * lock. Released on close and, failing that, when the process exits.
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE);
  const mine: LockHolder = { pid: process.pid, started: processStartTime(process.pid), command };
  const content = JSON.stringify(mine);
  const draft = `${file}.${process.pid}.new`;
  writeFileSync(draft, content, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        linkSync(draft, file);
        return holdLock(file, content);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const found = readOrNull(file);
      if (found === null) continue;
      const holder = parseHolder(found);
      if (holder && isAlive(holder)) throw new DataDirLockedError(dataDir, holder);
      const aside = `${file}.${process.pid}.stale`;
      try {
        renameSync(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      // Another starter may have replaced the stale lock between our read and our move: put its lock back.
      if (readOrNull(aside) !== found) {
        try {
          linkSync(aside, file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
      }
      unlinkIfPresent(aside);
    }
    throw new Error(`cannot take ${file}: it keeps changing (several berth processes starting at once?)`);
  } finally {
    unlinkIfPresent(draft);
  }
}

function holdLock(file: string, content: string): DataDirLock {
  const release = () => {
    process.removeListener("exit", release);
    // Only our own lock: never remove one a later process took after ours was judged stale.
    if (readOrNull(file) === content) unlinkIfPresent(file);
  };
  process.once("exit", release);
  return { release };
}
