import { checkClientAddress, checkConfigMap, checkInstanceDisks, checkPodSpec, checkRegistryReplicas, checkSecurityGroup, checkVolume } from "../../stacks/policy/rules";

/** The violations a check reports for `props`. */
function violations<T>(check: (props: T, report: (message: string) => void) => void, props: T): string[] {
  const found: string[] = [];
  check(props, (message) => found.push(message));
  return found;
}

describe("policy: no public PostgreSQL or MinIO", () => {
  it("fails a group that opens 5432 or 9000 to the world, by port range or all traffic", () => {
    expect(violations(checkSecurityGroup, { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] })).toEqual(["port 5432 (PostgreSQL) is open to 0.0.0.0/0"]);
    expect(violations(checkSecurityGroup, { ingress: [{ protocol: "tcp", fromPort: 8000, toPort: 9100, ipv6CidrBlocks: ["::/0"] }] })).toEqual(["port 9000 (MinIO) is open to ::/0"]);
    expect(violations(checkSecurityGroup, { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] })).toHaveLength(2);
  });

  it("passes private rules and public 443", () => {
    expect(violations(checkSecurityGroup, { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.42.0.0/16"] }, { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] })).toEqual([]);
  });
});

describe("policy: encrypted disks", () => {
  it("fails unencrypted root, extra and standalone volumes", () => {
    expect(violations(checkInstanceDisks, { rootBlockDevice: { encrypted: false }, ebsBlockDevices: [{ deviceName: "/dev/sdf" }] })).toEqual([
      "the root volume is not encrypted (rootBlockDevice.encrypted: true)",
      "volume /dev/sdf is not encrypted",
    ]);
    expect(violations(checkVolume, {})).toEqual(["the volume is not encrypted"]);
    expect(violations(checkInstanceDisks, { rootBlockDevice: { encrypted: true } })).toEqual([]);
  });
});

describe("policy: no plain-text secrets", () => {
  it("fails a credential given as a literal env value or kept in a ConfigMap (the path of a mounted secret is no credential)", () => {
    const pod = { spec: { template: { spec: { containers: [{ name: "berth", env: [{ name: "BERTH_ADMIN_PASSWORD", value: "hunter2" }, { name: "MY_API_TOKEN", value: "x" }, { name: "BERTH_LOG_LEVEL", value: "info" }, { name: "BERTH_SECRET_KEY_FILE", value: "/etc/berth/secret-key/secretkey" }] }] } } } };
    expect(violations(checkPodSpec, pod)).toEqual([
      "container berth has BERTH_ADMIN_PASSWORD in plain text: use valueFrom.secretKeyRef",
      "container berth has MY_API_TOKEN in plain text: use valueFrom.secretKeyRef",
    ]);
    expect(violations(checkConfigMap, { data: { DB_PASSWORD: "x", region: "eu" } })).toEqual(["ConfigMap key DB_PASSWORD looks like a secret: use a Secret"]);
  });
});

describe("policy: two registry replicas", () => {
  const instance = (role: string) => ({ type: "aws:ec2/instance:Instance", name: role, props: { tags: { "berth:role": role } } });
  it("fails one host or one replica, passes two, ignores stacks without Berth", () => {
    expect(violations(checkRegistryReplicas, [instance("registry")])).toEqual(["the stack has 1 registry host(s); run at least 2"]);
    expect(violations(checkRegistryReplicas, [{ type: "kubernetes:apps/v1:Deployment", name: "d", props: { metadata: { name: "berth" }, spec: { replicas: 1 } } }])).toEqual([
      "the registry Deployment has 1 replica(s); run at least 2",
    ]);
    expect(violations(checkRegistryReplicas, [instance("registry"), instance("registry")])).toEqual([]);
    expect(violations(checkRegistryReplicas, [instance("bastion")])).toEqual([]);
  });
});

describe("policy: the client address behind an ingress (advisory)", () => {
  const berth = (env: { name: string; value?: string }[]) => ({ metadata: { name: "berth" }, spec: { template: { spec: { containers: [{ name: "berth", env }] } } } });

  it("warns when the registry believes no proxy, so every client would share the ingress controller's address", () => {
    expect(violations(checkClientAddress, berth([{ name: "BERTH_ADDR", value: "0.0.0.0:5000" }]))).toEqual([
      expect.stringContaining("container berth has no BERTH_TRUSTED_PROXIES"),
    ]);
  });

  it("passes when the proxies are named, and ignores other Deployments", () => {
    expect(violations(checkClientAddress, berth([{ name: "BERTH_TRUSTED_PROXIES", value: "10.42.0.0/16" }]))).toEqual([]);
    expect(violations(checkClientAddress, { metadata: { name: "berth-controller" }, spec: { template: { spec: { containers: [{ name: "controller", env: [] }] } } } })).toEqual([]);
  });
});
