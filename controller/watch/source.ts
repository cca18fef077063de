import { createHash } from "node:crypto";
import { mkdir, readFile, realpath, rm, stat } from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";
import { POLICY_FILES } from "../policy/load";
import type { PolicySourceId } from "../state/registry-state";

/** A version of the policy files: where they are on disk and what to call it in the audit log and history. */
export interface Revision {
  dir: string;
  /** A commit SHA, or a content hash for a plain directory. */
  id: string;
  author: string;
  /** The source the files came from: only the registry's managing source may apply them. */
  source: PolicySourceId;
}

/** Where the controller gets its policy files from. */
export interface PolicySource {
  describe(): string;
  /** Brings the files up to date and says which revision they are at. */
  fetch(): Promise<Revision>;
}

/** The configured branch is not in the repository: nothing can be applied until the setting or the repository changes. */
export class BranchMissingError extends Error {}

/** `scheme://…` or scp-like `user@host:path`: a remote; anything else is a path on this machine. */
export function isRemote(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\]+@[^/\\:]+:/.test(repo);
}

/** A URL without the credentials it may carry (`https://user:token@host/…`): what may be logged and stored. */
export function redactRepo(repo: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return repo;
  try {
    const url = new URL(repo);
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return repo;
  }
}

/** One spelling per repository, so the registry can tell whether two controllers follow the same one. */
export async function normalizeRepo(repo: string): Promise<string> {
  if (isRemote(repo)) return redactRepo(repo).replace(/\/+$/, "").replace(/\.git$/, "");
  const absolute = path.resolve(repo);
  return (await realpath(absolute).catch(() => absolute)).replace(/\/\.git$/, "");
}

/** HEAD's branch and every branch's commit, from one `git ls-remote` (cheap for a local path, one round trip for a URL). */
export async function remoteHeads(repo: string): Promise<{ defaultBranch: string | null; heads: Map<string, string> }> {
  const output = await simpleGit().raw(["ls-remote", "--symref", repo, "HEAD", "refs/heads/*"]);
  let defaultBranch: string | null = null;
  const heads = new Map<string, string>();
  for (const line of output.split("\n")) {
    const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (symref) defaultBranch = symref[1];
    const head = /^([0-9a-f]{40,64})\trefs\/heads\/(\S+)$/.exec(line);
    if (head) heads.set(head[2], head[1]);
  }
  return { defaultBranch, heads };
}

/**
 * A git repository (a path or a URL), cloned into `workDir` and reset to the branch head whenever the branch moves,
 * so the controller always reads exactly one commit of the files. With no branch set it follows the repository's
 * default branch (its HEAD), as `git clone` does: a `git init` repository on `master` works as one on `main`.
 */
export class GitSource implements PolicySource {
  private current: Revision | null = null;

  constructor(
    private readonly repo: string,
    private readonly branch: string | undefined,
    private readonly workDir: string,
  ) {}

  describe(): string {
    return `${redactRepo(this.repo)}${this.branch ? `#${this.branch}` : " (its default branch)"}`;
  }

  async fetch(): Promise<Revision> {
    const { defaultBranch, heads } = await remoteHeads(this.repo);
    const branch = this.branch ?? defaultBranch;
    if (!branch || heads.size === 0) throw new Error(`${redactRepo(this.repo)} has no commits yet: commit projects.yaml and members.yaml`);
    const head = heads.get(branch);
    if (!head) {
      const known = [...heads.keys()].join(", ");
      throw new BranchMissingError(
        `branch "${branch}" does not exist in ${redactRepo(this.repo)} (it has ${known}): set BERTH_CONTROLLER_BRANCH to one of them, or unset it to follow the repository's default branch${defaultBranch ? ` (${defaultBranch})` : ""}`,
      );
    }
    if (this.current?.id === head) return this.current;
    const git = await this.checkout(branch);
    const log = await git.log({ maxCount: 1 });
    if (!log.latest) throw new Error(`${this.describe()} has no commits`);
    const source = { repo: await normalizeRepo(this.repo), branch, dir: "" };
    this.current = { dir: this.workDir, id: log.latest.hash, author: `${log.latest.author_name} <${log.latest.author_email}>`, source };
    return this.current;
  }

  /** The work tree at the branch's head: cloned the first time (or again when it was cloned from elsewhere), fetched after. */
  private async checkout(branch: string) {
    const cloned = await stat(path.join(this.workDir, ".git")).then(() => true, () => false);
    if (cloned && (await simpleGit(this.workDir).remote(["get-url", "origin"]))?.trim() !== this.repo) await rm(this.workDir, { recursive: true, force: true });
    else if (cloned) {
      const git = simpleGit(this.workDir);
      await git.fetch("origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`);
      await git.reset(["--hard", `origin/${branch}`]);
      return git;
    }
    await mkdir(path.dirname(this.workDir), { recursive: true });
    await simpleGit().clone(this.repo, this.workDir, ["--branch", branch, "--single-branch"]);
    return simpleGit(this.workDir);
  }
}

/**
 * Which source a directory of policy files is: in a git work tree, the repository (its `origin` when it has one, so
 * a clone of the managing repository counts as that repository), the checked-out branch and the directory inside
 * it; otherwise the directory itself.
 */
export async function sourceOfDirectory(dir: string): Promise<PolicySourceId> {
  const plain = { repo: await normalizeRepo(dir), branch: "", dir: "" };
  try {
    const git = simpleGit(dir);
    if (!(await git.checkIsRepo())) return plain;
    const top = (await git.revparse(["--show-toplevel"])).trim();
    const origin = (await git.getConfig("remote.origin.url")).value;
    const branch = (await git.raw(["branch", "--show-current"])).trim();
    const inside = path.relative(await realpath(top), await realpath(dir));
    const repo = origin ? await normalizeRepo(isRemote(origin) ? origin : path.resolve(top, origin)) : await normalizeRepo(top);
    return { repo, branch, dir: inside };
  } catch {
    return plain;
  }
}

/**
 * A plain directory. Inside a git work tree with the policy files committed as they are, its revision is that
 * commit; otherwise a hash of the files' content (edited files are not any commit).
 */
export class DirectorySource implements PolicySource {
  constructor(private readonly dir: string) {}

  describe(): string {
    return this.dir;
  }

  async fetch(): Promise<Revision> {
    const source = await sourceOfDirectory(this.dir);
    const committed = await this.cleanCommit();
    if (committed) return { dir: this.dir, ...committed, source };
    const hash = createHash("sha256");
    for (const file of Object.values(POLICY_FILES)) {
      hash.update(file);
      hash.update(await readFile(path.join(this.dir, file)).catch(() => Buffer.alloc(0)));
    }
    return { dir: this.dir, id: `content:${hash.digest("hex").slice(0, 16)}`, author: "local files", source };
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
