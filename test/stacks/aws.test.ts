import * as pulumi from "@pulumi/pulumi";
import { checkInstanceDisks, checkRegistryReplicas, checkSecurityGroup } from "../../stacks/policy/rules";
import type { ReleaseArtifact } from "../../stacks/release";
import { checkShellSyntax, hostEnvLines, installMocks, isSecret, reveal, testRelease, valueOf, type Recorded } from "./mocks";

describe("the aws target (mocked)", () => {
  let recorded: Recorded[];
  let release: ReleaseArtifact;

  beforeAll(async () => {
    release = testRelease();
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
    await valueOf(berthStack({ release: () => release }).registryUrl);
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

  /** The shell script inside the cloud-init user data, after the part that makes it run at every boot. */
  function userDataScript(userData: string): string {
    const parts = userData.split("--==berth==");
    expect(parts[1]).toContain("#cloud-config\ncloud_final_modules:\n  - [scripts_user, always]\n");
    expect(parts[2]).toMatch(/^\nContent-Type: text\/x-shellscript; charset="us-ascii"\n\n#!\/usr\/bin\/env bash\n/);
    expect(parts[3]).toBe("--\n");
    return parts[2].slice(parts[2].indexOf("#!"), -1);
  }

  it("sets the hosts up from one script, as a secret, with the same BERTH_* settings on both", () => {
    const [primary, replica] = ofType("aws:ec2/instance:Instance").map((h) => h.inputs.userData);
    expect(isSecret(primary)).toBe(true);
    const [one, two] = [userDataScript(reveal<string>(primary)), userDataScript(reveal<string>(replica))];
    // EC2 refuses user data over 16 KiB.
    for (const userData of [primary, replica]) expect(Buffer.byteLength(reveal<string>(userData))).toBeLessThan(16 * 1024);
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

  it("keeps the release in a private, encrypted bucket that only the hosts' role may read, one object", async () => {
    const [bucket] = ofType("aws:s3/bucket:Bucket");
    expect(ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").map((b) => b.inputs)).toEqual([
      { bucket: `${bucket.name}-id`, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    ]);
    expect(ofType("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0].inputs).toEqual({ bucket: `${bucket.name}-id`, rule: { objectOwnership: "BucketOwnerEnforced" } });
    expect(ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0].inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    const [object] = ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    expect(object.inputs).toMatchObject({ bucket: `${bucket.name}-id`, key: "releases/berth-0.1.0-linux-x64.tar.gz" });
    expect(await object.inputs.source.path).toBe(release.path);
    expect(object.inputs.acl).toBeUndefined();

    const [role] = ofType("aws:iam/role:Role");
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    const policies = ofType("aws:iam/rolePolicy:RolePolicy");
    expect(policies).toHaveLength(1);
    expect(JSON.parse(policies[0].inputs.policy).Statement).toEqual([
      { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:mock:::${bucket.name}/releases/berth-0.1.0-linux-x64.tar.gz` },
    ]);
    expect(ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    const [profile] = ofType("aws:iam/instanceProfile:InstanceProfile");
    for (const host of ofType("aws:ec2/instance:Instance")) {
      expect(host.inputs.iamInstanceProfile).toBe(profile.name);
      const script = userDataScript(reveal<string>(host.inputs.userData));
      expect(script).toContain(`aws s3 cp --only-show-errors --region 'eu-central-1' 's3://${bucket.name}-id/releases/berth-0.1.0-linux-x64.tar.gz' "$1"`);
      expect(script).toContain(`BERTH_ARTIFACT_SHA256='${release.sha256}'`);
      expect(script).toMatch(/apt-get install -y -qq [a-z -]*\bawscli\b/);
      expect(script).not.toMatch(/\bnpm\b|nodejs/);
    }
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
