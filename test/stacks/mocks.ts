import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseArtifact } from "../../stacks/release";

/** A resource the program registered, with its inputs as the engine would receive them. */
export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- provider inputs
}

/** Pulumi's marker for a secret value inside mocked inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
}

/** The plain value of a possibly secret input. */
export function reveal<T>(value: T | { value: T }): T {
  return isSecret(value) ? (value as { value: T }).value : (value as T);
}

/**
 * Runs the program against mocks (no CLI, no providers, no network): records every resource, answers the invokes
 * the program makes, and sets the stack's `berth:*` configuration.
 */
export function installMocks(config: Record<string, unknown>, stack = "test"): Recorded[] {
  const recorded: Recorded[] = [];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([key, value]) => [key.includes(":") ? key : `berth:${key}`, typeof value === "string" ? value : JSON.stringify(value)])),
  );
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { name: args.name, ...args.inputs, arn: `arn:aws:mock:::${args.name}`, dnsName: `${args.name}.elb.example.com` };
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = `generated-${args.name}`;
        if (args.type === "random:index/randomBytes:RandomBytes") state.base64 = Buffer.alloc(args.inputs.length, args.name).toString("base64");
        return { id: `${args.name}-id`, state };
      },
      call: (args) => {
        if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones") return { names: ["eu-central-1a", "eu-central-1b", "eu-central-1c"] };
        if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0123456789", architecture: "x86_64" };
        if (args.token === "aws:index/getRegion:getRegion") return { region: "eu-central-1" };
        return {};
      },
    },
    "berth",
    stack,
    false,
  );
  return recorded;
}

/** Resolves an output (in tests, after mocks). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** The lines of /etc/berth/berth.env a host setup script writes. */
export function hostEnvLines(script: string): string[] {
  return /\/etc\/berth\/berth\.env 600 root <<'ENV'[^\n]*\n([\s\S]*?)\nENV/.exec(script)![1].split("\n");
}

/** `bash -n`: the script parses (nothing runs); throws with bash's message otherwise. */
export function checkShellSyntax(script: string): void {
  execFileSync("bash", ["-n"], { input: script, stdio: ["pipe", "ignore", "pipe"] });
}

/**
 * A release artifact for a mocked stack: a small file (the mocks never read it) with its real SHA-256, named as
 * `npm run release` names one.
 */
export function testRelease(): ReleaseArtifact {
  const content = Buffer.from("not a real release\n");
  const fileName = "berth-0.1.0-linux-x64.tar.gz";
  const file = path.join(mkdtempSync(path.join(tmpdir(), "berth-stack-release-")), fileName);
  writeFileSync(file, content);
  return { version: "0.1.0", arch: "x64", fileName, path: file, sha256: createHash("sha256").update(content).digest("hex") };
}

/** ShellCheck's findings on a bash script (every severity), "" when it has none. */
export function shellcheckFindings(script: string): string {
  try {
    execFileSync("shellcheck", ["-s", "bash", "-"], { input: script, stdio: ["pipe", "pipe", "pipe"] });
    return "";
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    return `${stdout ?? ""}${stderr ?? ""}` || (error as Error).message;
  }
}
