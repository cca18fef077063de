import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { ApiClient } from "./api-client";
import { createInitialPolicyRepository } from "./repository/initial";
import { ControllerState } from "./state/registry-state";
import { DirectorySource, GitSource, isRemote, type PolicySource } from "./watch/source";
import { Watcher } from "./watch/watcher";

export interface EmbeddedControllerOptions {
  /** The registry's own URL and the in-process Authorization it accepts. */
  url: string;
  authorization: string;
  /** BERTH_CONTROLLER_REPO: unset = the registry's own repository under the data directory; a path or git URL otherwise. */
  repo: string | undefined;
  /** BERTH_CONTROLLER_BRANCH: unset = the repository's default branch. */
  branch: string | undefined;
  schedule: string;
  /** BERTH_CONTROLLER_POLL_SECONDS: unset = every 2 s for a path on this machine, 30 s for a URL. */
  pollSeconds: number | undefined;
  dataDir: string;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

/** A path on this machine costs a `git ls-remote` to check, so it is checked often: a commit shows within seconds. */
const LOCAL_POLL_MS = 2_000;
const REMOTE_POLL_MS = 30_000;

/** A repository's top (git or bare) is followed through git; any other directory, like examples/policies, as files. */
async function sourceFor(repo: string, branch: string | undefined, dataDir: string): Promise<PolicySource> {
  const workDir = path.join(dataDir, "controller", "repo");
  if (isRemote(repo)) return new GitSource(repo, branch, workDir);
  const isRepository = await Promise.any([stat(path.join(repo, ".git")), stat(path.join(repo, "HEAD"))]).then(() => true, () => false);
  return isRepository ? new GitSource(path.resolve(repo), branch, workDir) : new DirectorySource(path.resolve(repo));
}

/**
 * The controller inside `berth serve`: the same watcher as `berth-controller watch`, talking to this registry over
 * HTTP with a credential that only this process knows. With no repository configured it follows the registry's own,
 * created at the first start in `<data dir>/policies`, so one command gives a registry governed by its files.
 */
export async function startEmbeddedController(options: EmbeddedControllerOptions): Promise<Watcher | null> {
  try {
    return await start(options);
  } catch (error) {
    // The registry serves without its controller rather than not at all (git missing, an unwritable directory).
    options.log("error", `the embedded controller did not start: ${(error as Error).message}`);
    return null;
  }
}

async function start(options: EmbeddedControllerOptions): Promise<Watcher> {
  const client = new ApiClient({ url: options.url, username: "system:controller", password: "", authorization: options.authorization });
  let repo = options.repo;
  if (!repo) {
    repo = path.join(options.dataDir, "policies");
    if (await createInitialPolicyRepository(repo)) {
      // `library` was made by this first start, not by hand: the new repository manages it without an adopt flag.
      await new ControllerState(client).changeInventory([{ kind: "project", key: "library", adopted: true }], []);
      options.log("info", `created the registry's policy repository ${repo}: commit there to change projects, members and robots`);
    }
  }
  const source = await sourceFor(repo, options.branch, options.dataDir);
  const pollMs = options.pollSeconds !== undefined ? options.pollSeconds * 1000 : isRemote(repo) ? REMOTE_POLL_MS : LOCAL_POLL_MS;
  const watcher = new Watcher({ name: `${hostname()} (berth serve)`, source, client, user: "system:controller", schedule: options.schedule, pollMs, log: options.log });
  options.log("info", `embedded controller: reconciling ${source.describe()}, drift schedule "${options.schedule}"`);
  await watcher.start();
  return watcher;
}
