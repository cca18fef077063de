import * as pulumi from "@pulumi/pulumi";
import { checkRegistryReplicas } from "../../stacks/policy/rules";
import { installMocks, isSecret, reveal, valueOf, type Recorded } from "./mocks";

describe("the hosts target (mocked)", () => {
  let recorded: Recorded[];

  beforeAll(async () => {
    recorded = installMocks({
      target: "hosts",
      domain: "registry.example.com",
      hosts: [
        { address: "192.0.2.11", user: "admin", privateAddress: "10.0.0.11" },
        { address: "192.0.2.12", user: "admin", privateAddress: "10.0.0.12" },
      ],
      sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----",
      tlsCertificate: "-----BEGIN CERTIFICATE-----\nnot-a-real-certificate\n-----END CERTIFICATE-----",
      tlsKey: "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----",
    });
    const { berthStack } = await import("../../stacks/stack");
    await valueOf(berthStack().registryUrl);
    await pulumi.runtime.disconnect();
  });

  it("sets up both machines over SSH with the shared script, the primary first", () => {
    const commands = recorded.filter((r) => r.type === "command:remote:Command");
    expect(commands.map((c) => reveal<{ host: string }>(c.inputs.connection).host)).toEqual(["192.0.2.11", "192.0.2.12"]);
    for (const command of commands) expect(isSecret(command.inputs.stdin)).toBe(true);
    expect(reveal<string>(commands[0].inputs.stdin)).toContain("pg_conftool set listen_addresses '10.0.0.11'");
    expect(reveal<string>(commands[1].inputs.stdin)).toContain("pg_basebackup -h 10.0.0.11");
    expect(reveal<string>(commands[1].inputs.stdin)).toContain("MINIO_VOLUMES='http://{10.0.0.11,10.0.0.12}:9000/var/lib/minio/data{1...2}'");
    // TLS on 443 on each host: nginx with the site's certificate in front of Berth's 5000.
    for (const command of commands) {
      const script = reveal<string>(command.inputs.stdin);
      expect(script).toContain("server_name registry.example.com;");
      expect(script).toContain("proxy_pass http://127.0.0.1:5000;");
      expect(script).toContain("not-a-real-certificate");
    }
    const violations: string[] = [];
    checkRegistryReplicas(recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs })), (m) => violations.push(m));
    expect(violations).toEqual([]);
  });

  it("generates every credential as a secret when config supplies none", () => {
    const passwords = recorded.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => r.name).sort();
    expect(passwords).toEqual(["test-admin-password", "test-database-password", "test-minio-access-key", "test-minio-secret-key", "test-replication-password"]);
  });
});
