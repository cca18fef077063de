// Berth's policy pack: `pulumi preview --policy-pack stacks/policy`. The checks are in rules.ts.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { PolicyPack, validateResourceOfType } from "@pulumi/policy";
import { checkClientAddress, checkConfigMap, checkInstanceDisks, checkPodSpec, checkRegistryReplicas, checkSecurityGroup, checkVolume } from "./rules";

new PolicyPack("berth", {
  policies: [
    {
      name: "no-public-database-or-minio",
      description: "PostgreSQL (5432) and MinIO (9000) are never open to the internet.",
      enforcementLevel: "mandatory",
      validateResource: validateResourceOfType(aws.ec2.SecurityGroup, (group, _args, report) => checkSecurityGroup(group as never, report)),
    },
    {
      name: "encrypted-disks",
      description: "Every disk is encrypted.",
      enforcementLevel: "mandatory",
      validateResource: [
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => checkInstanceDisks(instance as never, report)),
        validateResourceOfType(aws.ebs.Volume, (volume, _args, report) => checkVolume(volume as never, report)),
      ],
    },
    {
      name: "no-plaintext-secrets",
      description: "Credentials reach pods through Secrets, never as literal values.",
      enforcementLevel: "mandatory",
      validateResource: [
        validateResourceOfType(k8s.apps.v1.Deployment, (deployment, _args, report) => checkPodSpec(deployment as never, report)),
        validateResourceOfType(k8s.core.v1.ConfigMap, (map, _args, report) => checkConfigMap(map as never, report)),
      ],
    },
    {
      name: "client-address-behind-ingress",
      description: "Behind an ingress, Berth is told which proxies to believe (BERTH_TRUSTED_PROXIES).",
      enforcementLevel: "advisory",
      validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, _args, report) => checkClientAddress(deployment as never, report)),
    },
    {
      name: "two-registry-replicas",
      description: "At least two registry hosts or replicas.",
      enforcementLevel: "mandatory",
      validateStack: (stack, report) => checkRegistryReplicas(stack.resources.map((r) => ({ type: r.type, name: r.name, props: r.props })), report),
    },
  ],
});
