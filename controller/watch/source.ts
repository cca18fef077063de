import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";
import { POLICY_FILES } from "../policy/load";

/** A version of the policy files: where they are on disk and what to call it in the audit log and history. */
export interface Revision {
  dir: string;
  /** A commit SHA, or a content hash for a plain directory. */
  id: string;
  author: string;
}

/** Where the controller gets its policy files from. */
export interface PolicySource {
  describe(): string;
  /** Brings the files up to date and says which revision they are at. */
  fetch(): Promise<Revision>;
}

/**
 * A git repository (a path or a URL), cloned into `workDir` once and then fetched and reset to the branch head, so
 * the controller always reads exactly one commit of the files.
 */
export class GitSource implements PolicySource {
  constructor(
    private readonly repo: string,
    private readonly branch: string,
    private readonly workDir: string,
  ) {}

  describe(): string {
    return `${this.repo}#${this.branch}`;
  }

  async fetch(): Promise<Revision> {
    const cloned = await stat(path.join(this.workDir, ".git")).then(() => true, () => false);
    if (!cloned) {
      await mkdir(path.dirname(this.workDir), { recursive: true });
      await simpleGit().clone(this.repo, this.workDir, ["--branch", this.branch, "--single-branch"]);
    }
    const git = simpleGit(this.workDir);
    if (cloned) {
      await git.fetch("origin", this.branch);
      await git.reset(["--hard", `origin/${this.branch}`]);
    }
    const log = await git.log({ maxCount: 1 });
    if (!log.latest) throw new Error(`${this.describe()} has no commits`);
    return { dir: this.workDir, id: log.latest.hash, author: `${log.latest.author_name} <${log.latest.author_email}>` };
  }
}

/**
 * A plain directory (the bundled example). Inside a git work tree with the policy files committed as they are, its
 * revision is that commit; otherwise a hash of the files' content (edited files are not any commit).
 */
export class DirectorySource implements PolicySource {
  constructor(private readonly dir: string) {}

  describe(): string {
    return this.dir;
  }

  async fetch(): Promise<Revision> {
    const committed = await this.cleanCommit();
    if (committed) return { dir: this.dir, ...committed };
    const hash = createHash("sha256");
    for (const file of Object.values(POLICY_FILES)) {
      hash.update(file);
      hash.update(await readFile(path.join(this.dir, file)).catch(() => Buffer.alloc(0)));
    }
    return { dir: this.dir, id: `content:${hash.digest("hex").slice(0, 16)}`, author: "local files" };
  }

  private async cleanCommit(): Promise<{ id: string; author: string } | null> {
    try {
      const git = simpleGit(this.dir);
      if (!(await git.checkIsRepo())) return null;
      const status = await git.raw(["status", "--porcelain", "--", ...Object.values(POLICY_FILES)]);
      if (status.trim() !== "") return null;
      const log = await git.log({ maxCount: 1, file: "." });
      return log.latest ? { id: log.latest.hash, author: `${log.latest.author_name} <${log.latest.author_email}>` } : null;
    } catch {
      return null;
    }
  }
}
