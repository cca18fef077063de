/**
 * `berth-controller pull-secret`: the Kubernetes pull secret (or just the auth file) of a robot the policy files
 * declare, with the secret its `secretFrom` names. Offline: it reads the files and the secret, not the registry.
 */
import { ROBOT_PREFIX } from "../../registry/robots/store";
import { loadPolicy, PolicyError, POLICY_FILES, positionIn, type Problem } from "../policy/load";
import type { DesiredRobot, Policy } from "../policy/model";
import { resolveSecret, UnreadableSecret } from "../policy/secrets";
import { dockerConfigJson, kubernetesNameProblem, pullSecretManifest, registryHost, robotLogin } from "./docker-config";

export type PullSecretOutput = "secret" | "dockerconfigjson";

export interface PullSecretOptions {
  /** The policy repository. */
  dir: string;
  /** `robot$dev-team+ci`, `dev-team+ci`, or `ci` when one project has a robot of that name. */
  robot: string;
  /** The host (or URL) pulls name: `registry.example.com`. */
  server: string;
  name: string;
  namespace?: string;
  output: PullSecretOutput;
}

import { PullSecretRefused, PullSecretUsage } from "./errors";

export { PullSecretRefused, PullSecretUsage };

/** The declared robots `wanted` names: one, or several when a bare name is in more than one project. */
function matching(robots: DesiredRobot[], wanted: string): DesiredRobot[] {
  const key = wanted.startsWith(ROBOT_PREFIX) ? wanted.slice(ROBOT_PREFIX.length) : wanted;
  if (key.includes("+")) return robots.filter((robot) => `${robot.project}+${robot.name}` === key);
  return robots.filter((robot) => robot.name === key);
}

async function declaredRobot(dir: string, policy: Policy, wanted: string): Promise<DesiredRobot> {
  const found = matching(policy.robots, wanted);
  if (found.length === 1) return found[0];
  const declared = policy.robots.map((robot) => `${robot.project}+${robot.name}`).join(", ") || "none";
  const message =
    found.length === 0
      ? `robots: no robot ${JSON.stringify(wanted)} is declared (declared: ${declared})`
      : `robots: ${JSON.stringify(wanted)} names a robot in several projects (${found.map((r) => `${r.project}+${r.name}`).join(", ")}); say project+name`;
  throw new PullSecretRefused([{ ...(await positionIn(dir, POLICY_FILES.members, ["robots"], true)), message }]);
}

/** The robot's secret from its `secretFrom`, or why it cannot be had (where the files say so). */
async function robotSecret(dir: string, policy: Policy, robot: DesiredRobot): Promise<string> {
  const key = `${robot.project}+${robot.name}`;
  const reference = policy.secrets.find((secret) => secret.kind === "robot" && secret.key === key);
  if (!reference) {
    const index = policy.robots.indexOf(robot);
    const at = await positionIn(dir, POLICY_FILES.members, ["robots", index, "name"]);
    const message =
      `robots.${index}: robot ${key} has no secretFrom: the registry generated its secret and kept none, so no pull secret can be made. ` +
      `Add secretFrom: env:NAME or file:PATH (the controller sets it when it creates the robot; an existing robot's is set with PATCH /api/v2.0/robots/<id>)`;
    throw new PullSecretRefused([{ ...at, message }]);
  }
  try {
    return await resolveSecret(reference.reference);
  } catch (error) {
    if (!(error instanceof UnreadableSecret)) throw error;
    const { file, line, col } = reference;
    throw new PullSecretRefused([{ file, line, col, message: `${reference.field}: ${error.message} (the pull secret of ${robotLogin(robot)} needs it)` }]);
  }
}

/** The Secret YAML or the auth file, as the command prints it. */
export async function pullSecret(options: PullSecretOptions): Promise<string> {
  for (const [value, what] of [[options.name, "name"], [options.namespace, "namespace"]] as const) {
    const problem = value === undefined ? null : kubernetesNameProblem(value, what);
    if (problem) throw new PullSecretUsage(`--${problem}`);
  }
  let host: string;
  try {
    host = registryHost(options.server);
  } catch (error) {
    throw new PullSecretUsage(`--server: ${(error as Error).message}`);
  }
  let policy: Policy;
  try {
    policy = await loadPolicy(options.dir);
  } catch (error) {
    if (error instanceof PolicyError) throw new PullSecretRefused(error.problems);
    throw error;
  }
  const robot = await declaredRobot(options.dir, policy, options.robot);
  const dockerConfig = dockerConfigJson(host, robotLogin(robot), await robotSecret(options.dir, policy, robot));
  if (options.output === "dockerconfigjson") return `${dockerConfig}\n`;
  return pullSecretManifest({ name: options.name, namespace: options.namespace, dockerConfig });
}
