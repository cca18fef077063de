import * as pulumi from "@pulumi/pulumi";
import { checkRegistryReplicas } from "../../stacks/policy/rules";
import type { ReleaseArtifact } from "../../stacks/release";
import { DEFAULT_MC, DEFAULT_MINIO } from "../../stacks/third-party";
import { checkShellSyntax, hostEnvLines, installMocks, isSecret, reveal, testRelease, valueOf, type Recorded } from "./mocks";

describe("the hosts target (mocked)", () => {
  let recorded: Recorded[];
  let release: ReleaseArtifact;

  beforeAll(async () => {
    release = testRelease();
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
      controllerRepo: "https://git.example.com/policies.git",
    });
    const { berthStack } = await import("../../stacks/stack");
    await valueOf(berthStack({ release: () => release }).registryUrl);
    await pulumi.runtime.disconnect();
  });

  it("sets up both machines over SSH with the shared script, the primary first", () => {
    const commands = recorded.filter((r) => r.type === "command:remote:Command");
    expect(commands.map((c) => reveal<{ host: string }>(c.inputs.connection).host)).toEqual(["192.0.2.11", "192.0.2.12"]);
    for (const command of commands) expect(isSecret(command.inputs.stdin)).toBe(true);
    expect(reveal<string>(commands[0].inputs.stdin)).toContain("pg_conftool set listen_addresses '10.0.0.11'");
    expect(reveal<string>(commands[1].inputs.stdin)).toContain("pg_basebackup -h 10.0.0.11");
    expect(reveal<string>(commands[1].inputs.stdin)).toContain("MINIO_VOLUMES='http://{10.0.0.11,10.0.0.12}:9000/var/lib/minio/data{1...2}'");
    // Berth itself serves HTTPS on 443 on each host, with the site's certificate in files only its user reads.
    for (const command of commands) {
      const script = reveal<string>(command.inputs.stdin);
      expect(hostEnvLines(script)).toEqual(
        expect.arrayContaining(["BERTH_ADDR='0.0.0.0:443'", "BERTH_TLS_CERT_FILE='/etc/berth/tls/tls.crt'", "BERTH_TLS_KEY_FILE='/etc/berth/tls/tls.key'"]),
      );
      expect(script).toContain("install -d -m 700 -o berth -g berth /etc/berth/tls");
      expect(script).toContain("replace_if_changed /etc/berth/tls/tls.crt 600 berth <<'PEM' || true\n-----BEGIN CERTIFICATE-----\nnot-a-real-certificate\n");
      expect(script).toContain("replace_if_changed /etc/berth/tls/tls.key 600 berth <<'PEM' || true\n-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n");
      expect(script).toMatch(/\[Service\]\nUser=berth\nGroup=berth\n[\s\S]*AmbientCapabilities=CAP_NET_BIND_SERVICE\n/);
      expect(script).not.toContain("proxy_pass");
      checkShellSyntax(script);
    }
    // The controller on host 1 talks to Berth by the name its certificate holds.
    expect(reveal<string>(commands[0].inputs.stdin)).toContain("BERTH_REGISTRY_URL='https://registry.example.com'");
    const violations: string[] = [];
    checkRegistryReplicas(recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs })), (m) => violations.push(m));
    expect(violations).toEqual([]);
  });

  it("writes the same secret key on both hosts, 0600 for the berth user, and points Berth at it", () => {
    const scripts = recorded.filter((r) => r.type === "command:remote:Command").map((c) => reveal<string>(c.inputs.stdin));
    const keys = scripts.map((script) => /replace_if_changed \/etc\/berth\/secretkey 600 berth <<'KEY' && RESTART_BERTH=1\n(.*)\nKEY\n/.exec(script)?.[1]);
    expect(keys[0]).toBeDefined();
    expect(Buffer.from(keys[0]!, "base64")).toHaveLength(32);
    expect(keys[1]).toBe(keys[0]);
    for (const script of scripts) {
      expect(hostEnvLines(script)).toContain("BERTH_SECRET_KEY_FILE='/etc/berth/secretkey'");
      expect(hostEnvLines(script).join("\n")).not.toContain(keys[0]);
    }
  });

  it("copies the release artifact to each machine, and the script installs only a file with its SHA-256", async () => {
    const copies = recorded.filter((r) => r.type === "command:remote:CopyToRemote");
    expect(copies.map((c) => reveal<{ host: string }>(c.inputs.connection).host)).toEqual(["192.0.2.11", "192.0.2.12"]);
    for (const copy of copies) {
      expect(await copy.inputs.source.path).toBe(release.path);
      expect(copy.inputs.remotePath).toBe("/var/tmp/berth-0.1.0-linux-x64.tar.gz");
      expect(copy.inputs.triggers).toEqual([release.sha256]);
    }
    for (const command of recorded.filter((r) => r.type === "command:remote:Command")) {
      const script = reveal<string>(command.inputs.stdin);
      expect(script).toContain(`BERTH_ARTIFACT_SHA256='${release.sha256}'`);
      expect(script).toContain("install -m 600 -o root -g root '/var/tmp/berth-0.1.0-linux-x64.tar.gz' \"$1\"");
      expect(script).toContain('| sha256sum -c --quiet');
      expect(script).toContain("ExecStart=/opt/berth/current/bin/berth serve");
      // Nothing named after the project comes from a public registry, and the host needs no Node of its own.
      expect(script).not.toMatch(/\bnpm\b|nodejs/);
    }
  });

  it("runs Berth, the controller and MinIO as their own users, hardened, each writing only its data directory", () => {
    const [primary, replica] = recorded.filter((r) => r.type === "command:remote:Command").map((c) => reveal<string>(c.inputs.stdin));
    const units = (script: string) =>
      Object.fromEntries([...script.matchAll(/\/etc\/systemd\/system\/(\S+) 644 root <<'UNIT' && RESTART_\w+=1\n([\s\S]*?)\nUNIT\n/g)].map(([, name, text]) => [name, text.split("\n")]));
    const hardened = ["Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"];
    const one = units(primary);
    expect(Object.keys(one).sort()).toEqual(["berth-controller.service", "berth.service", "minio.service"]);
    expect(one["berth.service"]).toEqual(expect.arrayContaining([...hardened, "User=berth", "ExecStart=/opt/berth/current/bin/berth serve", "ReadWritePaths=/var/lib/berth", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE"]));
    expect(one["berth-controller.service"]).toEqual(expect.arrayContaining([...hardened, "User=berth", "ExecStart=/opt/berth/current/bin/berth-controller watch", "ReadWritePaths=/var/lib/berth-controller", "CapabilityBoundingSet="]));
    expect(one["minio.service"]).toEqual(expect.arrayContaining([...hardened, "User=minio", "ReadWritePaths=/var/lib/minio", "CapabilityBoundingSet="]));
    expect(Object.keys(units(replica)).sort()).toEqual(["berth.service", "minio.service"]);
    // Pinned third-party binaries: the defaults, checked before they are installed.
    expect(primary).toContain(`install_pinned '${DEFAULT_MINIO.url}' '${DEFAULT_MINIO.sha256}' /usr/local/bin/minio`);
    expect(primary).toContain(`install_pinned '${DEFAULT_MC.url}' '${DEFAULT_MC.sha256}' /usr/local/bin/mc`);
  });

  it("generates every credential as a secret when config supplies none", () => {
    const passwords = recorded.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => r.name).sort();
    expect(passwords).toEqual(["test-admin-password", "test-database-password", "test-minio-access-key", "test-minio-secret-key", "test-replication-password"]);
  });
});
