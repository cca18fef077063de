import { simpleGit } from "simple-git";
import { POLICY_FILES } from "./load";

export interface Revision {
  /** HEAD of the git work tree holding the files. */
  sha: string;
  author: string;
  /** The policy files differ from HEAD (edited, added or deleted and not committed): the plan is of no commit. */
  uncommitted: boolean;
}

/** The commit the files in `dir` come from, for the audit log and plan headers; null when DIR is not a git work tree. */
export async function commitOf(dir: string): Promise<Revision | null> {
  try {
    const git = simpleGit(dir);
    if (!(await git.checkIsRepo())) return null;
    const log = await git.log({ maxCount: 1 });
    if (!log.latest) return null;
    const status = await git.raw(["status", "--porcelain", "--", ...Object.values(POLICY_FILES)]);
    return { sha: log.latest.hash, author: `${log.latest.author_name} <${log.latest.author_email}>`, uncommitted: status.trim() !== "" };
  } catch {
    return null;
  }
}
