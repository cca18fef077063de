import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IMAGE } from "./image";
import { readPullSecrets, type PullSecretSpec } from "./pull-secrets";
import { DEFAULT_MC, DEFAULT_MINIO, pinnedDownload, type PinnedDownload } from "./third-party";

export type Target = "aws" | "hosts" | "kubernetes";

/** One existing machine of the `hosts` target. */
export interface HostSpec {
  address: string;
  user: string;
  /** Its private address, which the other host, PostgreSQL replication and MinIO use. */
  privateAddress: string;
}

/** Everything a stack is configured with (`pulumi config set berth:<key> …`), defaults filled in. */
export interface StackSettings {
  target: Target;
  /** The registry's public host name (TLS certificate, BERTH_PUBLIC_URL). */
  domain: string;
  /** CIDRs allowed to reach 443 (and 5000 when exposed). */
  allowedCidrs: string[];
  /**
   * CIDRs of what forwards requests to Berth (an ingress controller's pods on kubernetes): their X-Forwarded-For is
   * believed. The aws target always trusts its VPC (the ALB); a host serving TLS itself trusts nobody.
   */
  trustedProxies: string[];
  /** Also expose the registry API port 5000 (behind the same allow-list). */
  exposeApiPort: boolean;
  /** Registry hosts or replicas: at least two. */
  replicas: number;
  instanceType: string;
  diskGiB: number;
  /** An existing certificate (ACM ARN on aws, a TLS secret name on kubernetes); unset = one is issued. */
  certificate: string | undefined;
  /** An existing PostgreSQL URL (secret) instead of the stack's own. */
  databaseUrl: pulumi.Output<string> | undefined;
  hosts: HostSpec[];
  namespace: string;
  image: string;
  controllerRepo: string;
  controllerBranch: string;
  controllerSchedule: string;
  bucket: string;
  /** Kubernetes pull secrets for robots of members.yaml (kubernetes target). */
  pullSecrets: PullSecretSpec[];
  /** The MinIO server and client binaries the hosts download (aws, hosts), pinned by SHA-256. */
  minio: PinnedDownload;
  mc: PinnedDownload;
}

const TARGETS: Target[] = ["aws", "hosts", "kubernetes"];

/** Reads the `berth:*` stack configuration; a wrong value stops the preview with the key's name. */
export function readSettings(config = new pulumi.Config("berth")): StackSettings {
  const target = config.get("target") ?? "kubernetes";
  if (!TARGETS.includes(target as Target)) throw new Error(`berth:target must be one of ${TARGETS.join(", ")}, got "${target}"`);
  const replicas = config.getNumber("replicas") ?? 2;
  if (!Number.isInteger(replicas) || replicas < 2) throw new Error(`berth:replicas must be 2 or more (no single point of failure), got ${replicas}`);
  const hosts = config.getObject<HostSpec[]>("hosts") ?? [];
  const pullSecrets = readPullSecrets(config.getObject<unknown>("pullSecrets"), target);
  if (target === "hosts" && hosts.length < 2) throw new Error("berth:hosts must list two machines ({address, user, privateAddress}) for the hosts target");
  return {
    target: target as Target,
    domain: config.require("domain"),
    allowedCidrs: config.getObject<string[]>("allowedCidrs") ?? ["0.0.0.0/0"],
    trustedProxies: config.getObject<string[]>("trustedProxies") ?? [],
    exposeApiPort: config.getBoolean("exposeApiPort") ?? false,
    replicas,
    instanceType: config.get("instanceType") ?? "c6i.xlarge",
    diskGiB: config.getNumber("diskGiB") ?? 100,
    certificate: config.get("certificate"),
    databaseUrl: config.getSecret("databaseUrl"),
    hosts,
    namespace: config.get("namespace") ?? "berth",
    image: config.get("image") ?? DEFAULT_IMAGE,
    controllerRepo: config.get("controllerRepo") ?? "off",
    // "" follows the repository's default branch (its HEAD).
    controllerBranch: config.get("controllerBranch") ?? "",
    controllerSchedule: config.get("controllerSchedule") ?? "*/5 * * * *",
    bucket: config.get("bucket") ?? "berth-blobs",
    pullSecrets,
    minio: pinnedDownload("minio", config.get("minioUrl"), config.get("minioSha256"), DEFAULT_MINIO),
    mc: pinnedDownload("mc", config.get("mcUrl"), config.get("mcSha256"), DEFAULT_MC),
  };
}
