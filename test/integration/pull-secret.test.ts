/**
 * The pull-secret journey against a Berth process: the built controller applies a robot with pull on team-a only,
 * `berth-controller pull-secret` makes its auth file (and the Secret holding the same file), and podman, logged in
 * with nothing but that file, pulls from team-a and is refused on team-b.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { Podman } from "../support/podman";
import { commitAll, controllerEnv } from "../support/policy-repo";
import { writePullSecretPolicies } from "../support/pull-secret-policies";
import { RegistryClient } from "../support/registry-client";
import { describeIf, findTool } from "../support/tools";

const PULLER_SECRET = "Puller-Secret-2026x";
const AUTHOR = { name: "Alice Example", email: "alice@example.com" };

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let repo: string;
let work: string;
let pushed: { a: string; b: string };

function controller(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli("berth-controller", [...args, "--repo", repo], { ...controllerEnv(server.url), PULLER_SECRET, ...env });
}

beforeAll(async () => {
  environment = await prepareEnvironment({});
  server = await spawnBerth(environment.env);
  work = await mkdtemp(path.join(tmpdir(), "berth-pull-secret-"));
  repo = path.join(work, "policies");
  await promisify(execFile)("git", ["init", "-q", "-b", "main", repo]);
  const teamBSecret = path.join(work, "team-b-puller-secret");
  await writeFile(teamBSecret, "Team-B-Puller-2026x\n", { mode: 0o600 });
  await writePullSecretPolicies(repo, teamBSecret);
  await commitAll(repo, AUTHOR, "team-a's puller");
  const apply = await controller(["apply"]);
  expect(apply.stderr).toBe("");
  expect(apply.stdout).toMatch(/Applied 5, failed 0, skipped 0\./);
  const admin = new RegistryClient(server.url);
  pushed = { a: await admin.pushUnpackableImage("team-a/img", "1.0"), b: await admin.pushUnpackableImage("team-b/img", "1.0") };
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth-controller pull-secret against a Berth process", () => {
  it("prints the Secret, holding the same auth file --output dockerconfigjson prints, for BERTH_REGISTRY_URL's host", async () => {
    const secret = await controller(["pull-secret", "--robot", "team-a+puller", "--namespace", "apps"]);
    expect(secret).toMatchObject({ code: 0, stderr: "" });
    const manifest = parse(secret.stdout);
    expect(manifest).toMatchObject({ apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson", metadata: { name: "regcred", namespace: "apps" } });
    const file = await controller(["pull-secret", "--robot", "team-a+puller", "--output", "dockerconfigjson"]);
    expect(file).toMatchObject({ code: 0, stderr: "" });
    expect(Buffer.from(manifest.data[".dockerconfigjson"], "base64").toString()).toBe(file.stdout.trim());
    expect(Object.keys(JSON.parse(file.stdout).auths)).toEqual([server.host]);
  });

  it("answers --help after the command with the usage", async () => {
    const help = await controller(["pull-secret", "--help"]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/pull-secret --robot NAME/);
  });

  it("refuses a robot without secretFrom at its place in members.yaml, and an unset secret, printing nothing", async () => {
    const generated = await controller(["pull-secret", "--robot", "generated"]);
    expect(generated).toMatchObject({ code: 1, stdout: "" });
    expect(generated.stderr).toMatch(/^members\.yaml:6:11: robots\.1: robot team-a\+generated has no secretFrom/);
    const unset = await controller(["pull-secret", "--robot", "team-a+puller"], { PULLER_SECRET: "" });
    expect(unset).toMatchObject({ code: 1, stdout: "" });
    expect(unset.stderr).toBe(
      "members.yaml:5:5: robots.0.secretFrom: the environment variable PULLER_SECRET is not set (the pull secret of robot$team-a+puller needs it)\nno pull secret was made\n",
    );
    const unknown = await controller(["pull-secret", "--robot", "pusher"]);
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^members\.yaml:1:1: robots: no robot "pusher" is declared \(declared: team-a\+puller, team-a\+generated, team-b\+puller\)\n/);
  });

  describeIf(findTool("podman") !== null, "podman not found on PATH", "with podman", () => {
    let podman: Podman;
    let authfile: string;
    let policy: string;

    beforeAll(async () => {
      podman = await Podman.create(findTool("podman")!);
      const file = await controller(["pull-secret", "--robot", "team-a+puller", "--output", "dockerconfigjson"]);
      authfile = path.join(work, "auth.json");
      await writeFile(authfile, file.stdout, { mode: 0o600 });
      policy = path.join(work, "policy.json");
      await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    });
    afterAll(() => podman?.remove());

    const pull = (reference: string, auth: string[]) => podman.attempt(["pull", "--quiet", "--tls-verify=false", "--signature-policy", policy, ...auth, `docker://${server.host}/${reference}`]);

    it("pulls from the robot's project with the generated auth file", async () => {
      const pulled = await pull("team-a/img:1.0", ["--authfile", authfile]);
      expect(pulled).toMatchObject({ code: 0, stderr: "" });
      const digest = await podman.attempt(["image", "inspect", "--format", "{{.Digest}}", `${server.host}/team-a/img:1.0`]);
      expect(digest.stdout.trim()).toBe(pushed.a);
    });

    it("is refused on a project the robot has no pull on, and on team-a without the file", async () => {
      // team-b's image is there (the admin pushed it): the refusal is the robot's grants, not a missing image.
      expect(pushed.b).toMatch(/^sha256:/);
      const other = await pull("team-b/img:1.0", ["--authfile", authfile]);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/unauthorized|denied|authentication required/i);
      const empty = path.join(work, "empty-auth.json");
      await writeFile(empty, "{}");
      const anonymous = await pull("team-a/img:1.0", ["--authfile", empty]);
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.stderr).toMatch(/unauthorized|denied|authentication required/i);
    });
  });
});
