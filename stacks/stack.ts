import * as pulumi from "@pulumi/pulumi";
import { BerthAws } from "./components/aws";
import { BerthHosts } from "./components/hosts";
import { BerthKubernetes } from "./components/kubernetes";
import { readSettings } from "./config";
import { releaseArtifact, type ReleaseArtifact } from "./release";
import { stackSecrets } from "./secrets";

/** nginx's certificate and key on the hosts target, when both are configured (secrets). */
function hostTls(config: pulumi.Config) {
  const certificate = config.getSecret("tlsCertificate");
  const key = config.getSecret("tlsKey");
  return certificate && key ? { certificate, key } : undefined;
}

/**
 * The Berth stack: one `pulumi up` per environment, on the target its config names (berth:target). The aws and hosts
 * targets install the release artifact `npm run release` wrote into release/ (`release` reads it; tests pass their
 * own); kubernetes runs the container image.
 */
export function berthStack(options: { release?: () => ReleaseArtifact } = {}) {
  const release = options.release ?? (() => releaseArtifact());
  const config = new pulumi.Config("berth");
  const settings = readSettings(config);
  const root = new pulumi.ComponentResource("berth:stack:Deployment", pulumi.getStack());
  const secrets = stackSecrets(pulumi.getStack(), root);
  const deployment =
    settings.target === "aws"
      ? new BerthAws("berth", { settings, secrets, release: release() }, { parent: root })
      : settings.target === "hosts"
        ? new BerthHosts("berth", { settings, secrets, sshPrivateKey: config.requireSecret("sshPrivateKey"), tls: hostTls(config), release: release() }, { parent: root })
        : new BerthKubernetes("berth", { settings, secrets }, { parent: root });
  return {
    registryUrl: deployment.registryUrl,
    adminUser: "admin",
    adminPassword: secrets.adminPassword, // a secret: shown only with `pulumi stack output --show-secrets`
    controllerStatusUrl: deployment.controllerStatusUrl,
  };
}

