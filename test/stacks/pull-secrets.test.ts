import * as pulumi from "@pulumi/pulumi";
import { checkPodSpec } from "../../stacks/policy/rules";
import { readPullSecrets, robotSecretVariable } from "../../stacks/pull-secrets";
import { installMocks, isSecret, reveal, valueOf, type Recorded } from "./mocks";

describe("the kubernetes target's pull secrets (mocked)", () => {
  let recorded: Recorded[];

  beforeAll(async () => {
    recorded = installMocks({
      target: "kubernetes",
      domain: "registry.example.com",
      namespace: "berth",
      controllerRepo: "https://git.example.com/policies.git",
      pullSecrets: [
        { robot: "team-a+puller", namespace: "apps" },
        { robot: "robot$team-a+puller", namespace: "jobs", name: "berth-pull" },
        { robot: "team-b+ci", namespace: "apps", name: "team-b" },
      ],
    });
    const { berthStack } = await import("../../stacks/stack");
    await valueOf(berthStack().registryUrl);
    await pulumi.runtime.disconnect();
  });

  const secrets = () => recorded.filter((r) => r.type === "kubernetes:core/v1:Secret");
  const controller = () => recorded.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "berth-controller")!;

  it("makes a kubernetes.io/dockerconfigjson Secret per entry, for the registry's domain, as Pulumi secrets", () => {
    const pulls = secrets().filter((s) => s.inputs.type === "kubernetes.io/dockerconfigjson");
    expect(pulls.map((s) => s.inputs.metadata)).toEqual([
      { name: "regcred", namespace: "apps" },
      { name: "berth-pull", namespace: "jobs" },
      { name: "team-b", namespace: "apps" },
    ]);
    const files = pulls.map((s) => {
      expect(isSecret(s.inputs.stringData)).toBe(true);
      return JSON.parse(reveal<Record<string, string>>(s.inputs.stringData)[".dockerconfigjson"]).auths["registry.example.com"];
    });
    expect(files.map((f) => f.username)).toEqual(["robot$team-a+puller", "robot$team-a+puller", "robot$team-b+ci"]);
    // One robot, one secret, however many namespaces pull with it.
    expect(files[0].password).toBe(files[1].password);
    expect(files[0].password).not.toBe(files[2].password);
    expect(Buffer.from(files[2].auth, "base64").toString()).toBe(`robot$team-b+ci:${files[2].password}`);
    expect(recorded.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.includes("robot-secret")).map((r) => r.inputs)).toEqual([
      expect.objectContaining({ length: 32, special: false, minUpper: 1, minLower: 1, minNumeric: 1 }),
      expect.objectContaining({ length: 32, special: false }),
    ]);
  });

  it("hands each robot's secret to the controller through a Secret, under the variable members.yaml's secretFrom names", () => {
    const env = controller().inputs.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
    for (const variable of ["BERTH_ROBOT_SECRET_TEAM_A_PULLER", "BERTH_ROBOT_SECRET_TEAM_B_CI"]) {
      expect(env).toContainEqual({ name: variable, valueFrom: { secretKeyRef: { name: "berth-robot-secrets", key: variable } } });
    }
    const held = secrets().find((s) => s.inputs.metadata.name === "berth-robot-secrets")!;
    expect(held.inputs.metadata.namespace).toBe("berth");
    expect(isSecret(held.inputs.stringData)).toBe(true);
    const values = reveal<Record<string, string>>(held.inputs.stringData);
    const pulled = JSON.parse(reveal<Record<string, string>>(secrets().find((s) => s.inputs.metadata.name === "team-b")!.inputs.stringData)[".dockerconfigjson"]);
    expect(values.BERTH_ROBOT_SECRET_TEAM_B_CI).toBe(pulled.auths["registry.example.com"].password);
    // The registry's pods never see them.
    const registry = recorded.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "berth")!;
    expect(JSON.stringify(registry.inputs)).not.toContain("BERTH_ROBOT_SECRET");
    const violations: string[] = [];
    checkPodSpec(controller().inputs as never, (m) => violations.push(m));
    expect(violations).toEqual([]);
  });
});

describe("berth:pullSecrets", () => {
  it("names the variable after the robot, and takes robot$ names and a default Secret name", () => {
    expect(robotSecretVariable("team-a+puller")).toBe("BERTH_ROBOT_SECRET_TEAM_A_PULLER");
    expect(readPullSecrets(undefined, "kubernetes")).toEqual([]);
    expect(readPullSecrets([], "aws")).toEqual([]);
    expect(readPullSecrets([{ robot: "robot$a+b", namespace: "apps" }], "kubernetes")).toEqual([{ robot: "a+b", namespace: "apps", name: "regcred" }]);
  });

  it("stops the preview on an entry that could not work, or on another target, saying which and why", () => {
    expect(() => readPullSecrets([{ robot: "a+b", namespace: "apps" }], "aws")).toThrow("berth:pullSecrets: only the kubernetes target makes pull secrets");
    expect(() => readPullSecrets({ robot: "a+b" }, "kubernetes")).toThrow("berth:pullSecrets: must be a list of {robot, namespace, name}");
    expect(() => readPullSecrets([{ robot: "puller", namespace: "apps" }], "kubernetes")).toThrow('berth:pullSecrets: [0].robot must be a robot of members.yaml as project+name (team-a+puller), got "puller"');
    expect(() => readPullSecrets([{ robot: "a+b" }], "kubernetes")).toThrow("berth:pullSecrets: [0].namespace is required");
    expect(() => readPullSecrets([{ robot: "a+b", namespace: "Apps" }], "kubernetes")).toThrow(/\[0\]: namespace "Apps" is not a Kubernetes namespace/);
    expect(() => readPullSecrets([{ robot: "a+b", namespace: "apps" }, { robot: "c+d", namespace: "apps" }], "kubernetes")).toThrow("two entries make the Secret apps/regcred");
    expect(() => readPullSecrets([{ robot: "a-b+c", namespace: "x" }, { robot: "a.b+c", namespace: "y" }], "kubernetes")).toThrow("robots a-b+c and a.b+c would share the variable BERTH_ROBOT_SECRET_A_B_C");
  });
});
