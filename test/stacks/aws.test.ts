import * as pulumi from "@pulumi/pulumi";
import { checkInstanceDisks, checkRegistryReplicas, checkSecurityGroup } from "../../stacks/policy/rules";
import { checkShellSyntax, hostEnvLines, installMocks, isSecret, reveal, valueOf, type Recorded } from "./mocks";

describe("the aws target (mocked)", () => {
  let recorded: Recorded[];

  beforeAll(async () => {
    recorded = installMocks({
      target: "aws",
      domain: "registry.example.com",
      instanceType: "m6i.xlarge",
      diskGiB: 120,
      allowedCidrs: ["10.0.0.0/8"],
      exposeApiPort: true,
      controllerRepo: "https://git.example.com/policies.git",
    });
    const { berthStack } = await import("../../stacks/stack");
    await valueOf(berthStack().registryUrl);
    await pulumi.runtime.disconnect();
  });

  const ofType = (type: string) => recorded.filter((r) => r.type === type);

  it("puts two hosts of the configured size in two availability zones, with encrypted gp3 disks", () => {
    const subnets = ofType("aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => s.inputs.availabilityZone)).toEqual(["eu-central-1a", "eu-central-1b"]);
    const hosts = ofType("aws:ec2/instance:Instance");
    expect(hosts).toHaveLength(2);
    for (const host of hosts) {
      expect(host.inputs).toMatchObject({ instanceType: "m6i.xlarge", ami: "ami-0123456789", rootBlockDevice: { volumeType: "gp3", volumeSize: 120, encrypted: true }, metadataOptions: { httpTokens: "required" } });
      const violations: string[] = [];
      checkInstanceDisks(host.inputs, (m) => violations.push(m));
      expect(violations).toEqual([]);
    }
    expect(hosts.map((h) => h.inputs.subnetId)).toEqual(["berth-1-id", "berth-2-id"]);
  });

  it("opens 443 and 5000 only to the allowed networks, and keeps PostgreSQL and MinIO between the hosts", () => {
    const groups = ofType("aws:ec2/securityGroup:SecurityGroup");
    const lb = groups.find((g) => g.name === "berth-lb")!;
    expect(lb.inputs.ingress.map((r: { fromPort: number; cidrBlocks: string[] }) => [r.fromPort, r.cidrBlocks])).toEqual([
      [443, ["10.0.0.0/8"]],
      [5000, ["10.0.0.0/8"]],
    ]);
    const hosts = groups.find((g) => g.name === "berth-hosts")!;
    for (const port of [5432, 9000]) {
      const rule = hosts.inputs.ingress.find((r: { fromPort: number }) => r.fromPort === port);
      expect(rule).toMatchObject({ self: true });
      expect(rule.cidrBlocks).toBeUndefined();
    }
    const violations: string[] = [];
    for (const group of groups) checkSecurityGroup(group.inputs, (m) => violations.push(m));
    checkRegistryReplicas(recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs })), (m) => violations.push(m));
    expect(violations).toEqual([]);
  });

  it("sets the hosts up from one script, as a secret, with the same BERTH_* settings on both", () => {
    const [primary, replica] = ofType("aws:ec2/instance:Instance").map((h) => h.inputs.userData);
    expect(isSecret(primary)).toBe(true);
    const [one, two] = [reveal<string>(primary), reveal<string>(replica)];
    const env = (script: string) => hostEnvLines(script).filter((l) => !l.startsWith("BERTH_S3_ENDPOINT"));
    expect(env(one)).toEqual(env(two));
    expect(env(one)).toContain("BERTH_STORAGE='s3'");
    expect(env(one)).toContain("BERTH_PUBLIC_URL='https://registry.example.com'");
    // The load balancer terminates TLS: Berth speaks HTTP on 5000 behind it.
    expect(env(one)).toContain("BERTH_ADDR='0.0.0.0:5000'");
    expect(env(one).filter((l) => l.startsWith("BERTH_TLS_"))).toEqual([]);
    expect(one).toContain("User=berth");
    expect(one).not.toContain("CAP_NET_BIND_SERVICE");
    checkShellSyntax(one);
    checkShellSyntax(two);
    expect(one).toContain("pg_conftool set wal_level replica");
    expect(two).toContain("pg_basebackup -h 10.42.1.10 -U replicator");
    expect(one).toContain("berth-controller.service");
    expect(two).not.toContain("berth-controller.service");
  });

  it("terminates TLS on the load balancer with a certificate, forwarding to port 5000", () => {
    const listeners = ofType("aws:lb/listener:Listener");
    expect(listeners.map((l) => [l.inputs.port, l.inputs.protocol])).toEqual([
      [443, "HTTPS"],
      [5000, "HTTPS"],
    ]);
    expect(ofType("aws:acm/certificate:Certificate")[0].inputs).toMatchObject({ domainName: "registry.example.com", validationMethod: "DNS" });
    expect(ofType("aws:lb/targetGroup:TargetGroup")[0].inputs).toMatchObject({ port: 5000, healthCheck: { path: "/api/v2.0/health" } });
  });
});
