import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "../config";
import { hostScript } from "../host-script";
import type { ReleaseArtifact } from "../release";
import type { StackSecrets } from "../secrets";

export interface BerthHostsArgs {
  settings: StackSettings;
  secrets: StackSecrets;
  /** The SSH key both machines accept (a secret). */
  sshPrivateKey: pulumi.Input<string>;
  /** The site's certificate chain and key (PEM, secrets) Berth serves on 443; without them TLS is left to the site. */
  tls?: { certificate: pulumi.Input<string>; key: pulumi.Input<string> };
  /** The release artifact (`npm run release`) both machines install. */
  release: ReleaseArtifact;
}

/**
 * Berth on two existing machines (hardware or VMs), set up over SSH with the same script as the AWS hosts: the
 * PostgreSQL primary and the controller on the first, the replica on the second, MinIO and Berth on both; with the
 * site's certificate configured Berth itself serves HTTPS on 443 (otherwise TLS is the site's load balancer's and
 * Berth speaks HTTP on 5000). The release artifact is copied to each machine over SSH first; the setup script refuses
 * it unless its SHA-256 is the one the stack read from the artifact's .sha256 file.
 */
export class BerthHosts extends pulumi.ComponentResource {
  readonly registryUrl: pulumi.Output<string>;
  readonly controllerStatusUrl: pulumi.Output<string>;

  constructor(name: string, args: BerthHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("berth:stack:Hosts", name, {}, opts);
    const { settings, secrets } = args;
    const addresses: [string, string] = [settings.hosts[0].privateAddress, settings.hosts[1].privateAddress];
    let previous: pulumi.Resource | undefined;
    const { release } = args;
    // Where the SSH user may write; the script (as root) takes a root-only copy and checks that one.
    const uploaded = `/var/tmp/${release.fileName}`;
    const artifact = { version: release.version, arch: release.arch, fileName: release.fileName, sha256: release.sha256, source: { kind: "file" as const, path: uploaded } };
    settings.hosts.slice(0, 2).forEach((host, i) => {
      const connection = { host: host.address, user: host.user, privateKey: args.sshPrivateKey };
      const script = hostScript(settings, secrets, i === 0 ? "primary" : "replica", addresses, artifact, args.tls);
      const copy = new command.remote.CopyToRemote(
        `${name}-${i + 1}-release`,
        { connection, source: new pulumi.asset.FileAsset(release.path), remotePath: uploaded, triggers: [release.sha256] },
        { parent: this },
      );
      // The replica's base backup needs the primary set up first.
      previous = new command.remote.Command(
        `${name}-${i + 1}`,
        {
          connection,
          create: "sudo bash -s",
          stdin: script,
          triggers: [script],
        },
        { parent: this, dependsOn: previous ? [copy, previous] : [copy] },
      );
    });
    this.registryUrl = pulumi.output(`https://${settings.domain}`);
    this.controllerStatusUrl = pulumi.output(`http://${addresses[0]}:5100/readyz`);
    this.registerOutputs({ registryUrl: this.registryUrl, controllerStatusUrl: this.controllerStatusUrl });
  }
}
