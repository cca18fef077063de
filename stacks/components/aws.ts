import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "../config";
import { hostScript } from "../host-script";
import type { HostArtifact } from "../host-setup";
import type { ReleaseArtifact } from "../release";
import type { StackSecrets } from "../secrets";

export interface BerthAwsArgs {
  settings: StackSettings;
  secrets: StackSecrets;
  /** The release artifact (`npm run release`) the hosts install. */
  release: ReleaseArtifact;
}

const VPC_CIDR = "10.42.0.0/16";
const SUBNETS = ["10.42.1.0/24", "10.42.2.0/24"];
// Fixed private addresses: each host's setup names the other (PostgreSQL replication, MinIO peers) before both exist.
const HOST_ADDRESSES: [string, string] = ["10.42.1.10", "10.42.2.10"];

/**
 * Berth on AWS: a VPC with a subnet in each of two availability zones, one host in each (PostgreSQL primary and
 * replica, MinIO distributed over both, Berth on both), an application load balancer with TLS on 443 (and 5000 when
 * asked) open only to the allowed CIDRs, and security groups that keep PostgreSQL and MinIO inside the VPC. The
 * release artifact is a private S3 object that only the hosts' instance role may read.
 */
export class BerthAws extends pulumi.ComponentResource {
  readonly registryUrl: pulumi.Output<string>;
  readonly controllerStatusUrl: pulumi.Output<string>;

  constructor(name: string, args: BerthAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("berth:stack:Aws", name, {}, opts);
    const { settings, secrets } = args;
    const child = { parent: this };
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, child).names;

    const vpc = new aws.ec2.Vpc(name, { cidrBlock: VPC_CIDR, enableDnsHostnames: true, tags: { Name: name } }, child);
    const gateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id }, child);
    const routes = new aws.ec2.RouteTable(name, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }] }, child);
    const subnets = SUBNETS.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-${i + 1}`, { vpcId: vpc.id, cidrBlock, availabilityZone: zones[i], mapPublicIpOnLaunch: true, tags: { Name: `${name}-${i + 1}` } }, child);
      new aws.ec2.RouteTableAssociation(`${name}-${i + 1}`, { subnetId: subnet.id, routeTableId: routes.id }, child);
      return subnet;
    });

    const ports = settings.exposeApiPort ? [443, 5000] : [443];
    const lbGroup = new aws.ec2.SecurityGroup(`${name}-lb`, {
      vpcId: vpc.id,
      description: "Berth load balancer: TLS from the allowed networks",
      ingress: ports.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: settings.allowedCidrs })),
      egress: [{ protocol: "tcp", fromPort: 5000, toPort: 5000, cidrBlocks: [VPC_CIDR] }],
    }, child);
    const hostGroup = new aws.ec2.SecurityGroup(`${name}-hosts`, {
      vpcId: vpc.id,
      description: "Berth hosts: the registry from the load balancer; PostgreSQL and MinIO between the hosts only",
      ingress: [
        { protocol: "tcp", fromPort: 5000, toPort: 5000, securityGroups: [lbGroup.id] },
        { protocol: "tcp", fromPort: 5432, toPort: 5432, self: true },
        { protocol: "tcp", fromPort: 9000, toPort: 9000, self: true },
        { protocol: "tcp", fromPort: 5000, toPort: 5000, self: true },
      ],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    }, child);

    const { object, profile, readable } = releaseBucket(name, args.release, child);
    const { version, arch, fileName, sha256 } = args.release;
    const artifact = pulumi
      .all([object.bucket, object.key, aws.getRegionOutput({}, child).region])
      .apply(([bucket, key, region]): HostArtifact => ({ version, arch, fileName, sha256, source: { kind: "s3", bucket, key, region } }));
    // Debian's own images (its cloud team's account), for the architecture the release was built on.
    const debianArch = args.release.arch === "arm64" ? "arm64" : "amd64";
    const ami = aws.ec2.getAmiOutput({ mostRecent: true, owners: ["136693071363"], filters: [{ name: "name", values: [`debian-12-${debianArch}-*`] }] }, child);
    const publicUrl = `https://${settings.domain}`;
    const hosts = (["primary", "replica"] as const).map(
      (role, i) =>
        new aws.ec2.Instance(`${name}-${i + 1}`, {
          ami: ami.id,
          instanceType: settings.instanceType,
          subnetId: subnets[i].id,
          privateIp: HOST_ADDRESSES[i],
          vpcSecurityGroupIds: [hostGroup.id],
          rootBlockDevice: { volumeType: "gp3", volumeSize: settings.diskGiB, encrypted: true },
          metadataOptions: { httpTokens: "required" },
          iamInstanceProfile: profile.name,
          // Requests arrive from the ALB's nodes, inside the VPC: their X-Forwarded-For names the client.
          userData: everyBoot(hostScript({ ...settings, trustedProxies: [VPC_CIDR] }, secrets, role, HOST_ADDRESSES, artifact)),
          tags: { Name: `${name}-${i + 1}`, "berth:role": "registry", "berth:postgres": role },
        }, { ...child, dependsOn: [readable] }),
    );

    const certificateArn =
      settings.certificate ?? new aws.acm.Certificate(name, { domainName: settings.domain, validationMethod: "DNS" }, child).arn;
    const lb = new aws.lb.LoadBalancer(name, { loadBalancerType: "application", securityGroups: [lbGroup.id], subnets: subnets.map((s) => s.id) }, child);
    const targets = new aws.lb.TargetGroup(name, {
      vpcId: vpc.id,
      port: 5000,
      protocol: "HTTP",
      healthCheck: { path: "/api/v2.0/health", matcher: "200" },
    }, child);
    hosts.forEach((host, i) => new aws.lb.TargetGroupAttachment(`${name}-${i + 1}`, { targetGroupArn: targets.arn, targetId: host.id, port: 5000 }, child));
    for (const port of ports) {
      new aws.lb.Listener(`${name}-${port}`, {
        loadBalancerArn: lb.arn,
        port,
        protocol: "HTTPS",
        certificateArn,
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
      }, child);
    }

    this.registryUrl = pulumi.output(publicUrl);
    this.controllerStatusUrl = pulumi.interpolate`http://${hosts[0].privateIp}:5100/readyz`;
    this.registerOutputs({ registryUrl: this.registryUrl, loadBalancer: lb.dnsName });
  }
}

/**
 * A private bucket (public access blocked, ACLs off, encrypted) holding the release artifact, and the hosts' instance
 * role, which may read that one object and nothing else.
 */
function releaseBucket(name: string, release: ReleaseArtifact, child: pulumi.CustomResourceOptions) {
  const bucket = new aws.s3.Bucket(`${name}-releases`, { forceDestroy: true }, child);
  new aws.s3.BucketPublicAccessBlock(`${name}-releases`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, child);
  new aws.s3.BucketOwnershipControls(`${name}-releases`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-releases`, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, child);
  const object = new aws.s3.BucketObjectv2(`${name}-release`, { bucket: bucket.id, key: `releases/${release.fileName}`, source: new pulumi.asset.FileAsset(release.path) }, child);
  const role = new aws.iam.Role(`${name}-hosts`, {
    assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
  }, child);
  const readable = new aws.iam.RolePolicy(`${name}-release-read`, {
    role: role.id,
    policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: pulumi.interpolate`${bucket.arn}/${object.key}` }] }),
  }, child);
  const profile = new aws.iam.InstanceProfile(`${name}-hosts`, { role: role.name }, child);
  return { object, profile, readable };
}

/**
 * The setup script as cloud-init user data that runs at every boot, not only the first: `pulumi up` with a new release
 * (or changed settings) changes the user data, which AWS applies by stopping and starting the instance, and the script
 * (idempotent) then installs the new version next to the old one and restarts Berth.
 */
function everyBoot(script: pulumi.Output<string>): pulumi.Output<string> {
  return script.apply((text) => [
    'Content-Type: multipart/mixed; boundary="==berth=="',
    "MIME-Version: 1.0",
    "",
    "--==berth==",
    'Content-Type: text/cloud-config; charset="us-ascii"',
    "",
    "#cloud-config",
    "cloud_final_modules:",
    "  - [scripts_user, always]",
    "",
    "--==berth==",
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    "",
    text,
    "--==berth==--",
    "",
  ].join("\n"));
}
