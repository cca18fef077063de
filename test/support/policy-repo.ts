import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ADMIN_PASSWORD } from "./berth";

const git = promisify(execFile);

/** The example policy repository shipped with Berth. */
export const EXAMPLE_POLICIES = path.join(__dirname, "..", "..", "examples", "policies");

/** A git repository in a temp dir holding a copy of the example policies, committed by `author` on `branch`. */
export async function createPolicyRepo(prefix: string, author: { name: string; email: string }, branch = "main"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await git("git", ["-C", dir, "init", "-q", "-b", branch]);
  for (const file of ["projects.yaml", "members.yaml"]) await copyFile(path.join(EXAMPLE_POLICIES, file), path.join(dir, file));
  await commitAll(dir, author, "Initial policies");
  return dir;
}

/** Commits everything in `dir` as `author` and returns the commit SHA. */
export async function commitAll(dir: string, author: { name: string; email: string }, message: string): Promise<string> {
  await git("git", ["-C", dir, "add", "-A"]);
  await git("git", ["-C", dir, "-c", `user.name=${author.name}`, "-c", `user.email=${author.email}`, "commit", "-q", "-m", message]);
  return headOf(dir);
}

export async function headOf(dir: string): Promise<string> {
  return (await git("git", ["-C", dir, "rev-parse", "HEAD"])).stdout.trim();
}

export async function editFile(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const target = path.join(dir, file);
  await writeFile(target, change(await readFile(target, "utf8")));
}

/** What the controller needs to reach a test registry as admin, and alice's initial password from the example. */
export function controllerEnv(url: string): Record<string, string> {
  return { BERTH_REGISTRY_URL: url, BERTH_REGISTRY_USER: "admin", BERTH_REGISTRY_PASSWORD: ADMIN_PASSWORD, ALICE_INITIAL_PASSWORD: "Alice-Initial-Passw0rd" };
}
