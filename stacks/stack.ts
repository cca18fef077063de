import * as pulumi from "@pulumi/pulumi";
import { BerthAws } from "./components/aws";
import { BerthHosts } from "./components/hosts";
import { BerthKubernetes } from "./components/kubernetes";
import { readSettings } from "./config";
import { stackSecrets } from "./secrets";

/** The Berth stack: one `pulumi up` per environment, on the target its config names (berth:target). */
export function berthStack() {
  const settings = readSettings();
  const root = new pulumi.ComponentResource("berth:stack:Deployment", pulumi.getStack());
  const secrets = stackSecrets(pulumi.getStack(), root);
  const deployment =
    settings.target === "aws"
      ? new BerthAws("berth", { settings, secrets }, { parent: root })
      : settings.target === "hosts"
        ? new BerthHosts("berth", { settings, secrets, sshPrivateKey: new pulumi.Config("berth").requireSecret("sshPrivateKey") }, { parent: root })
        : new BerthKubernetes("berth", { settings, secrets }, { parent: root });
  return {
    registryUrl: deployment.registryUrl,
    adminUser: "admin",
    adminPassword: secrets.adminPassword, // a secret: shown only with `pulumi stack output --show-secrets`
    controllerStatusUrl: deployment.controllerStatusUrl,
  };
}

