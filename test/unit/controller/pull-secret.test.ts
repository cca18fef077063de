import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { pullSecret, PullSecretRefused, PullSecretUsage, type PullSecretOptions } from "../../../controller/pull-secret/command";
import { writePullSecretPolicies } from "../../support/pull-secret-policies";
import { dockerConfigJson, kubernetesNameProblem, registryHost } from "../../../controller/pull-secret/docker-config";

const SECRET = "Puller-Secret-12345";
let dir: string;
const saved = { ...process.env };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-pull-secret-"));
  await writePullSecretPolicies(dir, "/nonexistent/berth-test-secret");
  process.env.PULLER_SECRET = SECRET;
});
afterEach(async () => {
  process.env = { ...saved };
  await rm(dir, { recursive: true, force: true });
});

const options = (more: Partial<PullSecretOptions> = {}): PullSecretOptions => ({ dir, robot: "team-a+puller", server: "http://127.0.0.1:5000", name: "regcred", output: "secret", ...more });

/** The problems a refused run reports, as file:line:col lines. */
async function refusal(more: Partial<PullSecretOptions>): Promise<string> {
  const error = await pullSecret(options(more)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PullSecretRefused);
  return (error as Error).message;
}

describe("berth-controller pull-secret", () => {
  it("prints a kubernetes.io/dockerconfigjson Secret whose auth file logs in as the robot", async () => {
    const text = await pullSecret(options({ namespace: "apps" }));
    const secret = parse(text);
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "regcred", namespace: "apps" },
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": expect.any(String) },
    });
    const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString());
    expect(config).toEqual({
      auths: { "127.0.0.1:5000": { username: "robot$team-a+puller", password: SECRET, auth: Buffer.from(`robot$team-a+puller:${SECRET}`).toString("base64") } },
    });
  });

  it("leaves the namespace to kubectl when none is given, and takes the robot's full login name", async () => {
    const secret = parse(await pullSecret(options({ robot: "robot$team-a+puller", name: "berth-pull" })));
    expect(secret.metadata).toEqual({ name: "berth-pull" });
  });

  it("prints only the auth file with --output dockerconfigjson", async () => {
    const text = await pullSecret(options({ output: "dockerconfigjson", server: "registry.example.com" }));
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(JSON.parse(dockerConfigJson("registry.example.com", "robot$team-a+puller", SECRET)));
  });

  it("refuses an unknown robot, and a bare name two projects use, at robots: in members.yaml", async () => {
    expect(await refusal({ robot: "team-c+puller" })).toBe(
      'members.yaml:1:1: robots: no robot "team-c+puller" is declared (declared: team-a+puller, team-a+generated, team-b+puller)\nno pull secret was made',
    );
    expect(await refusal({ robot: "puller" })).toMatch(/^members\.yaml:1:1: robots: "puller" names a robot in several projects \(team-a\+puller, team-b\+puller\); say project\+name\n/);
    // A bare name one project has is enough.
    expect(await refusal({ robot: "generated" })).toMatch(/robot team-a\+generated has no secretFrom/);
  });

  it("refuses a robot without secretFrom at its entry, and a secret that cannot be read at its secretFrom, naming no value", async () => {
    expect(await refusal({ robot: "team-a+generated" })).toMatch(/^members\.yaml:6:11: robots\.1: robot team-a\+generated has no secretFrom: the registry generated its secret and kept none/);
    delete process.env.PULLER_SECRET;
    expect(await refusal({})).toBe(
      "members.yaml:5:5: robots.0.secretFrom: the environment variable PULLER_SECRET is not set (the pull secret of robot$team-a+puller needs it)\nno pull secret was made",
    );
    expect(await refusal({ robot: "team-b+puller" })).toMatch(/^members\.yaml:12:5: robots\.2\.secretFrom: cannot read the file \/nonexistent\/berth-test-secret \(ENOENT\)/);
  });

  it("reports broken policy files as they are, and refuses a name Kubernetes would not take", async () => {
    await writeFile(path.join(dir, "members.yaml"), "robots:\n  - name: x\n");
    expect(await refusal({})).toMatch(/^members\.yaml:2:5: robots\.0: missing required field "project"/);
    await expect(pullSecret(options({ name: "RegCred" }))).rejects.toThrow(PullSecretUsage);
    await expect(pullSecret(options({ namespace: "a.b" }))).rejects.toThrow(/--namespace "a\.b" is not a Kubernetes namespace/);
    await expect(pullSecret(options({ server: "https://registry.example.com/v2/" }))).rejects.toThrow(/--server: .* is not a registry host/);
  });
});

describe("the auth file's pieces", () => {
  it("keys credentials by host[:port], as image references name registries", () => {
    expect(registryHost("https://registry.example.com")).toBe("registry.example.com");
    expect(registryHost("http://127.0.0.1:5000/")).toBe("127.0.0.1:5000");
    expect(registryHost("registry.example.com:8443")).toBe("registry.example.com:8443");
  });

  it("accepts Kubernetes names and says what is wrong with others", () => {
    expect(kubernetesNameProblem("regcred", "name")).toBeNull();
    expect(kubernetesNameProblem("berth.pull-1", "name")).toBeNull();
    expect(kubernetesNameProblem("-x", "name")).toMatch(/not a Kubernetes object name/);
    expect(kubernetesNameProblem("x".repeat(64), "namespace")).toMatch(/up to 63/);
  });
});
