import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "../config";
import { hostScript } from "../host-script";
import type { StackSecrets } from "../secrets";

export interface BerthHostsArgs {
  settings: StackSettings;
  secrets: StackSecrets;
  /** The SSH key both machines accept (a secret). */
  sshPrivateKey: pulumi.Input<string>;
  /** The site's certificate chain and key (PEM, secrets) Berth serves on 443; without them TLS is left to the site. */
  tls?: { certificate: pulumi.Input<string>; key: pulumi.Input<string> };
}

/**
 * Berth on two existing machines (hardware or VMs), set up over SSH with the same script as the AWS hosts: the
 * PostgreSQL primary and the controller on the first, the replica on the second, MinIO and Berth on both; with the
 * site's certificate configured Berth itself serves HTTPS on 443 (otherwise TLS is the site's load balancer's and
 * Berth speaks HTTP on 5000).
 */
export class BerthHosts extends pulumi.ComponentResource {
  readonly registryUrl: pulumi.Output<string>;
  readonly controllerStatusUrl: pulumi.Output<string>;

  constructor(name: string, args: BerthHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("berth:stack:Hosts", name, {}, opts);
    const { settings, secrets } = args;
    const addresses: [string, string] = [settings.hosts[0].privateAddress, settings.hosts[1].privateAddress];
    let previous: pulumi.Resource | undefined;
    settings.hosts.slice(0, 2).forEach((host, i) => {
      const script = hostScript(settings, secrets, i === 0 ? "primary" : "replica", addresses, args.tls);
      // The replica's base backup needs the primary set up first.
      previous = new command.remote.Command(
        `${name}-${i + 1}`,
        {
          connection: { host: host.address, user: host.user, privateKey: args.sshPrivateKey },
          create: "sudo bash -s",
          stdin: script,
          triggers: [script],
        },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
    });
    this.registryUrl = pulumi.output(`https://${settings.domain}`);
    this.controllerStatusUrl = pulumi.output(`http://${addresses[0]}:5100/readyz`);
    this.registerOutputs({ registryUrl: this.registryUrl, controllerStatusUrl: this.controllerStatusUrl });
  }
}
