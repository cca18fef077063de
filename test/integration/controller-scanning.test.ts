/**
 * The built `berth-controller` against a Berth process: a project's scanning settings as code (autoScan,
 * preventVulnerable, cveAllowlist) planned, applied through the projects API, read back to an empty plan, and the
 * preview of the current images a new prevention threshold would block.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import MarkdownIt from "markdown-it";
import { prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";

let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
let server: BerthProcess;
let admin: RegistryClient;
let repo: string;

const ALICE = { name: "Alice Example", email: "alice@example.com" };

const controller = (args: string[]): Promise<CliResult> => runCli("berth-controller", [...args, "--repo", repo], controllerEnv(server.url));
const commit = (message: string) => commitAll(repo, ALICE, message);
const edit = (change: (text: string) => string) => editFile(repo, "projects.yaml", change);

interface ApiProject {
  metadata: Record<string, string>;
  cve_allowlist: { items: { cve_id: string }[]; expires_at: number | null };
}
const project = async (name: string) => (await (await admin.fetch(`/api/v2.0/projects/${name}`)).json()) as ApiProject;

beforeAll(async () => {
  environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
  server = await spawnBerth(environment.env);
  admin = new RegistryClient(server.url);
  repo = await createPolicyRepo("berth-scanning-policies-", ALICE);
  await writeFile(path.join(repo, "projects.yaml"), "projects:\n  - name: team-a\n    public: false\n");
  await writeFile(path.join(repo, "members.yaml"), "");
  await commit("Only team-a");
}, 120_000);
afterAll(async () => {
  await server?.kill("SIGKILL");
  await environment?.cleanup();
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("scanning settings as code", () => {
  let image: { manifestDigest: string };

  it("creates the project without scanning settings: absent means not managed", async () => {
    expect((await controller(["apply"])).code).toBe(0);
    image = await admin.pushImage("team-a/app", "v1", "scanning-app-v1");
    expect((await project("team-a")).metadata.prevent_vul).toBeUndefined();
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("plans turning prevention on with the images it would block, applies it, and then has nothing to do", async () => {
    await edit((text) => `${text}    autoScan: true\n    preventVulnerable:\n      severity: high\n`);
    await commit("Scan team-a on push and refuse High and above");
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('~ project team-a\n    autoScan: false → true\n    preventVulnerable: "off" → "high"\n');
    expect(plan.stdout).toContain(
      [
        "Vulnerability prevention impact:",
        "  team-a: preventVulnerable high would block 1 current image(s)",
        `      team-a/app@${image.manifestDigest} (v1) cannot be pulled: it has not been scanned, and the project refuses images without a vulnerability scan`,
      ].join("\n"),
    );
    const markdown = await controller(["plan", "--format", "markdown"]);
    expect(new MarkdownIt({ html: true }).render(markdown.stdout)).toContain("<h4>Vulnerability prevention impact</h4>");
    const json = JSON.parse((await controller(["plan", "--format", "json"])).stdout) as { prevention: { project: string; blocks: { digest: string }[] }[] };
    expect(json.prevention).toEqual([expect.objectContaining({ project: "team-a", severity: "high", unchecked: 0, blocks: [expect.objectContaining({ digest: image.manifestDigest, tags: ["v1"] })] })]);

    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 1, failed 0, skipped 0\./);
    expect((await project("team-a")).metadata).toMatchObject({ auto_scan: "true", prevent_vul: "true", severity: "high" });
    expect((await controller(["plan", "--detailed-exitcode"])).stdout).toBe("No changes: the registry matches the files.\n");
  });

  it("puts back a threshold changed by hand", async () => {
    const put = await admin.fetch("/api/v2.0/projects/team-a", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { severity: "critical" } }) });
    expect(put.status).toBe(200);
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain('~ project team-a\n    preventVulnerable: "critical" → "high"\n');
    expect((await controller(["apply"])).code).toBe(0);
    expect((await project("team-a")).metadata.severity).toBe("high");
  });

  it("turns prevention off when the files say off, keeping the threshold", async () => {
    await edit((text) => text.replace("    preventVulnerable:\n      severity: high\n", "    preventVulnerable: off\n"));
    await commit("Stop refusing pulls in team-a");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain('    preventVulnerable: "high" → "off"\n');
    expect(plan.stdout).not.toContain("Vulnerability prevention impact");
    expect((await controller(["apply"])).code).toBe(0);
    expect((await project("team-a")).metadata).toMatchObject({ prevent_vul: "false", severity: "high" });
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("refuses a bad threshold with file:line:col and applies nothing", async () => {
    await edit((text) => text.replace("    preventVulnerable: off\n", "    preventVulnerable:\n      severity: severe\n"));
    const apply = await controller(["apply"]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain("projects.yaml:6:7: projects.0.preventVulnerable: must be false, off, or {severity: none|low|medium|high|critical}\n");
    expect((await project("team-a")).metadata.prevent_vul).toBe("false");
  });

  it("gives the project its own allowlist, id by id, with its expiry", async () => {
    await edit((text) => `${text.replace("severity: severe", "severity: high")}    cveAllowlist:\n      expiresAt: 2027-06-30\n      items: [CVE-2024-1234, CVE-2023-9999]\n`);
    await commit("Refuse High and above again, and allow two CVEs until the end of June 2027");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain(
      [
        "~ project team-a",
        '    preventVulnerable: "off" → "high"',
        "    cveAllowlist.useSystemAllowlist: true → false",
        '    cveAllowlist.expiresAt: null → "2027-06-30T00:00:00Z"',
        '    cveAllowlist.items: added "CVE-2023-9999"',
        '    cveAllowlist.items: added "CVE-2024-1234"',
      ].join("\n"),
    );
    // The preview applies the new allowlist, which cannot excuse an image that was never scanned.
    expect(plan.stdout).toContain("team-a: preventVulnerable high would block 1 current image(s)");

    expect((await controller(["apply"])).code).toBe(0);
    const { metadata, cve_allowlist } = await project("team-a");
    expect(metadata.reuse_sys_cve_allowlist).toBe("false");
    expect(cve_allowlist.items.map((item) => item.cve_id).sort()).toEqual(["CVE-2023-9999", "CVE-2024-1234"]);
    expect(cve_allowlist.expires_at).toBe(Date.UTC(2027, 5, 30) / 1000);
    expect((await controller(["plan", "--detailed-exitcode"])).stdout).toBe("No changes: the registry matches the files.\n");
  });
});
