import path from "node:path";
import { ApiClient } from "./api-client";
import { DirectorySource, GitSource, type PolicySource } from "./watch/source";
import { Watcher } from "./watch/watcher";

/** The example policies shipped with Berth, reconciled by `npm start` when no repository is configured. */
export const BUNDLED_POLICIES = path.resolve(__dirname, "..", "..", "examples", "policies");

export interface EmbeddedControllerOptions {
  /** The registry's own URL and the in-process Authorization it accepts. */
  url: string;
  authorization: string;
  /** BERTH_CONTROLLER_REPO: unset = the bundled example directory; a path or git URL otherwise. */
  repo: string | undefined;
  branch: string;
  schedule: string;
  dataDir: string;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

/**
 * The controller inside `berth serve`: the same watcher as `berth-controller watch`, talking to this registry over
 * HTTP with a credential that only this process knows, so one command gives a registry governed by its files.
 */
export async function startEmbeddedController(options: EmbeddedControllerOptions): Promise<Watcher> {
  const source: PolicySource = options.repo ? new GitSource(options.repo, options.branch, path.join(options.dataDir, "controller", "repo")) : new DirectorySource(BUNDLED_POLICIES);
  const client = new ApiClient({ url: options.url, username: "system:controller", password: "", authorization: options.authorization });
  const watcher = new Watcher({ source, client, user: "system:controller", schedule: options.schedule, pollMs: 30_000, log: options.log });
  options.log("info", `embedded controller: reconciling ${source.describe()}, drift schedule "${options.schedule}"`);
  await watcher.start();
  return watcher;
}
