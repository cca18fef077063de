/**
 * The checks of Berth's policy pack as plain functions over resource properties, so they are tested without the
 * Pulumi CLI; `index.ts` wires them into a PolicyPack for `pulumi preview --policy-pack stacks/policy`.
 */
import { SECRET_VARIABLES } from "../environment";

export type Report = (message: string) => void;

interface Ingress {
  fromPort?: number;
  toPort?: number;
  protocol?: string;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
}

const PRIVATE_PORTS = [5432, 9000];
const WORLD = ["0.0.0.0/0", "::/0"];
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE_KEY/i;

/** A security group must not open PostgreSQL (5432) or MinIO (9000) to the whole internet. */
export function checkSecurityGroup(props: { ingress?: Ingress[] }, report: Report): void {
  for (const rule of props.ingress ?? []) {
    const open = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].filter((cidr) => WORLD.includes(cidr));
    if (open.length === 0) continue;
    const all = rule.protocol === "-1" || rule.protocol === "all";
    for (const port of PRIVATE_PORTS) {
      if (all || ((rule.fromPort ?? 0) <= port && port <= (rule.toPort ?? 65535))) report(`port ${port} (${port === 5432 ? "PostgreSQL" : "MinIO"}) is open to ${open.join(", ")}`);
    }
  }
}

/** Every disk encrypted: an instance's root and extra volumes, and standalone volumes. */
export function checkInstanceDisks(props: { rootBlockDevice?: { encrypted?: boolean }; ebsBlockDevices?: { encrypted?: boolean; deviceName?: string }[] }, report: Report): void {
  if (props.rootBlockDevice?.encrypted !== true) report("the root volume is not encrypted (rootBlockDevice.encrypted: true)");
  for (const device of props.ebsBlockDevices ?? []) if (device.encrypted !== true) report(`volume ${device.deviceName ?? "?"} is not encrypted`);
}

export function checkVolume(props: { encrypted?: boolean }, report: Report): void {
  if (props.encrypted !== true) report("the volume is not encrypted");
}

interface Container {
  name?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
}

/** Credentials go through Secrets (valueFrom), never as literal values in a pod spec or a ConfigMap. */
export function checkPodSpec(props: { spec?: { template?: { spec?: { containers?: Container[] } } } }, report: Report): void {
  for (const container of props.spec?.template?.spec?.containers ?? []) {
    for (const variable of container.env ?? []) {
      // A *_FILE variable holds the path of a mounted secret (BERTH_SECRET_KEY_FILE), not the secret itself.
      const namesSecret = SECRET_NAME.test(variable.name) && !variable.name.endsWith("_FILE");
      if (variable.value !== undefined && (SECRET_VARIABLES.includes(variable.name) || namesSecret)) {
        report(`container ${container.name ?? "?"} has ${variable.name} in plain text: use valueFrom.secretKeyRef`);
      }
    }
  }
}

/**
 * Behind an ingress, Berth sees every client as the ingress controller unless BERTH_TRUSTED_PROXIES names it: the
 * login throttle and the anonymous rate limit would then count all clients as one.
 */
export function checkClientAddress(props: { metadata?: { name?: string }; spec?: { template?: { spec?: { containers?: Container[] } } } }, report: Report): void {
  if (props.metadata?.name !== "berth") return;
  for (const container of props.spec?.template?.spec?.containers ?? []) {
    if (!(container.env ?? []).some((variable) => variable.name === "BERTH_TRUSTED_PROXIES")) {
      report(
        `container ${container.name ?? "?"} has no BERTH_TRUSTED_PROXIES: behind the ingress every client looks like the ingress controller, ` +
          "so login throttling and the anonymous rate limit count all clients as one; set berth:trustedProxies to the ingress controller pods' CIDR",
      );
    }
  }
}

export function checkConfigMap(props: { data?: Record<string, string> }, report: Report): void {
  for (const key of Object.keys(props.data ?? {})) if (SECRET_NAME.test(key)) report(`ConfigMap key ${key} looks like a secret: use a Secret`);
}

export interface StackResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

/** At least two registry hosts or replicas: one is a single point of failure. */
export function checkRegistryReplicas(resources: StackResource[], report: Report): void {
  const instances = resources.filter((r) => r.type === "aws:ec2/instance:Instance" && (r.props.tags as Record<string, string> | undefined)?.["berth:role"] === "registry").length;
  const deployments = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.props.metadata as { name?: string } | undefined)?.name === "berth");
  const hosts = resources.filter((r) => r.type === "command:remote:Command").length;
  if (instances + deployments.length + hosts === 0) return; // not a Berth stack
  for (const deployment of deployments) {
    const replicas = (deployment.props.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    if (replicas < 2) report(`the registry Deployment has ${replicas} replica(s); run at least 2`);
  }
  if (deployments.length === 0 && instances + hosts < 2) report(`the stack has ${instances + hosts} registry host(s); run at least 2`);
}
