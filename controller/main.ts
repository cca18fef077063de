#!/usr/bin/env node
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { ApiClient } from "./api-client";
import { formatReport } from "./apply/apply";
import { reconcile } from "./apply/reconcile";
import { formatHistory } from "./history";
import { formatStatus } from "./status";
import { ControllerState, describeSource, LockedError, SourceConflictError } from "./state/registry-state";
import { sameSource } from "../registry/gitops/ownership";
import { sourceOfDirectory } from "./watch/source";
import { PlanRefused } from "./plan/plan";
import { formatJson, formatMarkdown, formatText } from "./plan/format";
import { makePlan } from "./plan/plan";
import { formatProblem, loadPolicy, PolicyError } from "./policy/load";
import { commitOf } from "./policy/revision";
import { secretWarnings } from "./policy/secrets";
import { PullSecretRefused, PullSecretUsage } from "./pull-secret/errors";

const USAGE = `usage: berth-controller <command> [options]

commands:
  validate --repo DIR                  check projects.yaml and members.yaml (errors as file:line:col)
  plan     --repo DIR [--format text|markdown|json] [--detailed-exitcode]
                                       what apply would change (exit 0 none, 2 changes with --detailed-exitcode, 1 error)
  apply    --repo DIR [--take-over]    make the registry match the files
  watch    [--take-over]               follow BERTH_CONTROLLER_REPO: apply each new commit, correct drift on
                                       BERTH_CONTROLLER_SCHEDULE; /healthz, /readyz, /metrics on BERTH_CONTROLLER_ADDR
  status                               the source that manages the registry, its watchers and their errors, the last run
  history  [--limit N]                 recent runs (source, commit, trigger, changes, result)
  suspend  [--reason TEXT] | resume    pause or resume applying and drift correction (every controller)
  pull-secret --robot NAME [--repo DIR] [--namespace NS] [--name regcred] [--output secret|dockerconfigjson] [--server HOST]
                                       a kubernetes.io/dockerconfigjson Secret (or only the auth file) for a robot of
                                       members.yaml, with the secret its secretFrom names; the host is --server or
                                       BERTH_REGISTRY_URL's (offline: nothing is asked of the registry)

The registry: BERTH_REGISTRY_URL, BERTH_REGISTRY_USER, BERTH_REGISTRY_PASSWORD.

One source (repository, branch, directory) manages a registry: the first to apply claims it, and apply or watch
from another is refused unless --take-over makes it the managing one (recorded in the audit log).`;

class UsageError extends Error {}

function registryClient(changeRef: string): { client: ApiClient; user: string } {
  const url = process.env.BERTH_REGISTRY_URL;
  const user = process.env.BERTH_REGISTRY_USER;
  const password = process.env.BERTH_REGISTRY_PASSWORD;
  if (!url || !user || !password) throw new UsageError("set BERTH_REGISTRY_URL, BERTH_REGISTRY_USER and BERTH_REGISTRY_PASSWORD");
  return { client: new ApiClient({ url, username: user, password, changeRef }), user };
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  // `berth-controller pull-secret --help` asks for the usage too, not about an unknown option.
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      repo: { type: "string", default: "." },
      format: { type: "string", default: "text" },
      "detailed-exitcode": { type: "boolean", default: false },
      limit: { type: "string", default: "20" },
      reason: { type: "string" },
      "take-over": { type: "boolean", default: false },
      robot: { type: "string" },
      namespace: { type: "string" },
      name: { type: "string", default: "regcred" },
      output: { type: "string", default: "secret" },
      server: { type: "string" },
    },
    strict: true,
  });
  const dir = values.repo!;
  if (command === "history" || command === "suspend" || command === "resume" || command === "status") {
    const { client } = registryClient(`berth-controller ${command}`);
    const state = new ControllerState(client);
    if (command === "status") {
      process.stdout.write(formatStatus(await state.status(), (await state.runs(1))[0]));
      return 0;
    }
    if (command === "history") {
      process.stdout.write(formatHistory(await state.runs(Number(values.limit))));
      return 0;
    }
    await state.setSuspended(command === "suspend", values.reason ?? "");
    process.stdout.write(command === "suspend" ? "suspended: no controller applies or corrects drift until resume\n" : "resumed\n");
    return 0;
  }
  // Loaded only for their commands: watch brings prom-client and node-cron, pull-secret the registry's robot store.
  if (command === "watch") return (await import("./watch/watch")).watch({ takeOver: values["take-over"]! });
  if (command === "pull-secret") {
    const server = values.server ?? process.env.BERTH_REGISTRY_URL;
    if (!values.robot) throw new UsageError("pull-secret needs --robot NAME (a robot of members.yaml)");
    if (!server) throw new UsageError("pull-secret needs --server HOST or BERTH_REGISTRY_URL: the registry host pulls name");
    if (values.output !== "secret" && values.output !== "dockerconfigjson") throw new UsageError("--output must be secret or dockerconfigjson");
    const { pullSecret } = await import("./pull-secret/command");
    process.stdout.write(await pullSecret({ dir, robot: values.robot, server, name: values.name!, namespace: values.namespace, output: values.output }));
    return 0;
  }
  // A plan reads the registry's inventory and the files' commit while the files are parsed (both wait on another
  // process); a policy problem is still reported first, and a failed read only once the plan needs it.
  const registryConfigured = Boolean(process.env.BERTH_REGISTRY_URL && process.env.BERTH_REGISTRY_USER && process.env.BERTH_REGISTRY_PASSWORD);
  const early = command === "plan" && registryConfigured ? { commit: commitOf(dir), inventory: new ControllerState(registryClient("berth-controller plan").client).inventory() } : null;
  early?.inventory.catch(() => undefined);
  const policy = await loadPolicy(dir);
  if (command === "validate") {
    process.stderr.write((await secretWarnings(policy)).map((warning) => `${formatProblem(warning)}\n`).join(""));
    process.stdout.write(`${dir}: valid (${policy.projects.length} project(s), ${policy.users.length} user(s), ${policy.members.length} member(s), ${policy.robots.length} robot(s))\n`);
    return 0;
  }
  const commit = await (early?.commit ?? commitOf(dir));
  const runId = randomUUID();
  const changeRef = commit ? `commit ${commit.sha}${commit.uncommitted ? " + uncommitted changes" : ""} by ${commit.author} (run ${runId})` : `berth-controller run ${runId} from ${dir}`;
  const { client, user } = registryClient(changeRef);
  if (command === "apply") {
    const source = await sourceOfDirectory(dir);
    const { plan, report } = await reconcile({ client, policy, user, trigger: "manual", commit: commit?.sha ?? "", author: commit?.author, runId, source, takeOver: values["take-over"] });
    process.stdout.write(formatText(plan, commit?.sha, commit?.uncommitted));
    if (!report) return 0;
    process.stdout.write(`\n${formatReport(report)}`);
    return report.results.some((r) => r.outcome !== "applied") ? 1 : 0;
  }
  const plan = await makePlan(client, policy, user, await (early?.inventory ?? new ControllerState(client).inventory()));
  if (command === "plan") {
    const managing = (await new ControllerState(client).status()).source;
    const source = await sourceOfDirectory(dir);
    if (managing && !sameSource(managing, source)) {
      process.stderr.write(`note: this registry is managed by ${describeSource(managing)}; applying ${describeSource(source)} would be refused without --take-over\n`);
    }
    const format = values.format;
    if (format === "markdown") process.stdout.write(formatMarkdown(plan, commit?.sha, commit?.uncommitted));
    else if (format === "json") process.stdout.write(formatJson(plan));
    else if (format === "text") process.stdout.write(formatText(plan, commit?.sha, commit?.uncommitted));
    else throw new UsageError(`--format must be text, markdown or json`);
    return values["detailed-exitcode"] && plan.changes.length > 0 ? 2 : 0;
  }
  throw new UsageError(`unknown command "${command}"`);
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof PolicyError) {
      process.stderr.write(`${error.problems.map(formatProblem).join("\n")}\n${error.problems.length} problem(s); nothing was applied.\n`);
      process.exit(1);
    }
    if (error instanceof LockedError || error instanceof PlanRefused || error instanceof SourceConflictError) {
      process.stderr.write(`berth-controller: refused: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof PullSecretRefused) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof UsageError || error instanceof PullSecretUsage || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`berth-controller: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`berth-controller: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
