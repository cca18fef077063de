import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DOCKER_CONFIG_KEY, dockerConfigJson, robotLogin, SECRET_TYPE } from "../../controller/pull-secret/docker-config";
import { robotSecretVariable, type PullSecretSpec } from "../pull-secrets";

/**
 * The pull secrets `berth:pullSecrets` asks for: each robot's secret is generated once (kept in the state, a Pulumi
 * secret), written into a `kubernetes.io/dockerconfigjson` Secret in each namespace that pulls with it, and handed to
 * the controller as BERTH_ROBOT_SECRET_<PROJECT>_<NAME>, which members.yaml's `secretFrom` names, so the robot the
 * controller creates has exactly that secret. Returns those variables for the controller's environment.
 */
export function pullSecrets(name: string, specs: PullSecretSpec[], registryHost: string, opts: pulumi.CustomResourceOptions): Record<string, pulumi.Output<string>> {
  const variables: Record<string, pulumi.Output<string>> = {};
  for (const robot of new Set(specs.map((spec) => spec.robot))) {
    const variable = robotSecretVariable(robot);
    // Berth's password rule (upper, lower, digit), no characters a shell or URL would mangle.
    const generated = new random.RandomPassword(`${name}-${variable.toLowerCase().replace(/_/g, "-")}`, { length: 32, special: false, minUpper: 1, minLower: 1, minNumeric: 1 }, { parent: opts.parent });
    variables[variable] = pulumi.secret(generated.result);
  }
  for (const spec of specs) {
    const [project, robotName] = spec.robot.split("+");
    const dockerConfig = variables[robotSecretVariable(spec.robot)].apply((secret) => dockerConfigJson(registryHost, robotLogin({ project, name: robotName }), secret));
    new k8s.core.v1.Secret(
      `${name}-pull-${spec.namespace}-${spec.name}`,
      { metadata: { name: spec.name, namespace: spec.namespace }, type: SECRET_TYPE, stringData: { [DOCKER_CONFIG_KEY]: pulumi.secret(dockerConfig) } },
      opts,
    );
  }
  return variables;
}
