import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "../config";
import { hostScript } from "../host-script";
import type { StackSecrets } from "../secrets";

export interface BerthAwsArgs {
  settings: StackSettings;
  secrets: StackSecrets;
}

const VPC_CIDR = "10.42.0.0/16";
const SUBNETS = ["10.42.1.0/24", "10.42.2.0/24"];
// Fixed private addresses: each host's setup names the other (PostgreSQL replication, MinIO peers) before both exist.
const HOST_ADDRESSES: [string, string] = ["10.42.1.10", "10.42.2.10"];

/**
 * Berth on AWS: a VPC with a subnet in each of two availability zones, one host in each (PostgreSQL primary and
 * replica, MinIO distributed over both, Berth on both), an application load balancer with TLS on 443 (and 5000 when
 * asked) open only to the allowed CIDRs, and security groups that keep PostgreSQL and MinIO inside the VPC.
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

    const ami = aws.ec2.getAmiOutput({ mostRecent: true, owners: ["136693071363"], filters: [{ name: "name", values: ["debian-12-amd64-*"] }] }, child);
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
          // Requests arrive from the ALB's nodes, inside the VPC: their X-Forwarded-For names the client.
          userData: hostScript({ ...settings, trustedProxies: [VPC_CIDR] }, secrets, role, HOST_ADDRESSES),
          tags: { Name: `${name}-${i + 1}`, "berth:role": "registry", "berth:postgres": role },
        }, child),
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
