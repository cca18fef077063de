/**
 * `berth:pullSecrets`: the robots whose Kubernetes pull secrets the stack makes, and the variable through which the
 * controller learns each robot's secret (members.yaml says `secretFrom: env:<that variable>`). Pure: read by the
 * stack's settings, used by the kubernetes target.
 */
import { kubernetesNameProblem } from "../controller/pull-secret/docker-config";

/** One pull secret: robot `project+name` of members.yaml, as Secret `name` in `namespace`. */
export interface PullSecretSpec {
  /** `team-a+puller` (as the controller's plans name robots). */
  robot: string;
  namespace: string;
  name: string;
}

const ROBOT_KEY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*\+[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** `team-a+puller` → `BERTH_ROBOT_SECRET_TEAM_A_PULLER`: the controller's variable with that robot's secret. */
export function robotSecretVariable(robot: string): string {
  return `BERTH_ROBOT_SECRET_${robot.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Reads and checks `berth:pullSecrets` (a list of {robot, namespace, name?}) for a stack on `target`; a wrong entry
 * stops the preview.
 */
export function readPullSecrets(raw: unknown, target: string): PullSecretSpec[] {
  if (raw === undefined) return [];
  const fail = (message: string): never => {
    throw new Error(`berth:pullSecrets: ${message}`);
  };
  if (!Array.isArray(raw)) fail("must be a list of {robot, namespace, name}");
  const specs = (raw as Record<string, unknown>[]).map((entry, i) => {
    const robot = typeof entry?.robot === "string" ? entry.robot.replace(/^robot\$/, "") : "";
    if (!ROBOT_KEY.test(robot)) fail(`[${i}].robot must be a robot of members.yaml as project+name (team-a+puller), got ${JSON.stringify(entry?.robot)}`);
    const namespace = entry.namespace;
    const name = entry.name ?? "regcred";
    if (typeof namespace !== "string") fail(`[${i}].namespace is required (the namespace whose pods pull)`);
    for (const [value, what] of [[namespace, "namespace"], [name, "name"]] as const) {
      const problem = typeof value === "string" ? kubernetesNameProblem(value, what) : `${what} must be a string`;
      if (problem) fail(`[${i}]: ${problem}`);
    }
    return { robot, namespace: namespace as string, name: name as string };
  });
  if (specs.length > 0 && target !== "kubernetes") fail("only the kubernetes target makes pull secrets (elsewhere, berth-controller pull-secret prints them)");
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const where = `${spec.namespace}/${spec.name}`;
    if (seen.has(`secret ${where}`)) fail(`two entries make the Secret ${where}`);
    seen.set(`secret ${where}`, spec.robot);
    const variable = robotSecretVariable(spec.robot);
    const other = seen.get(variable);
    if (other !== undefined && other !== spec.robot) fail(`robots ${other} and ${spec.robot} would share the variable ${variable}`);
    seen.set(variable, spec.robot);
  }
  return specs;
}
