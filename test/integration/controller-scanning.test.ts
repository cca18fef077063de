/**
 * The built `berth-controller` against a Berth process: a project's scanning settings as code (autoScan,
 * preventVulnerable, cveAllowlist) planned, applied through the projects API, read back to an empty plan, and the
 * preview of the current images a new prevention threshold would block: one never scanned, and one scanned by the
 * registry against an OSV record written here for a package of its own Debian package database.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import MarkdownIt from "markdown-it";
import { prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { runCli, type CliResult } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile } from "../support/policy-repo";
import { buildLayer, OCI_MEDIA_TYPES } from "../support/oci-image";
import { RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";

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

const JSON_HEADERS = { "Content-Type": "application/json" };
const REPORT = "application/vnd.security.vulnerability.report; version=1.1";

/** Pushes `team-a/vulnerable:v1`, a Debian 12 image with one package that an imported record makes High, and scans it. */
async function pushScannedImage(): Promise<string> {
  const imported = await admin.fetch("/api/v2.0/vulndb/import?source=test", {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify([
      {
        schema_version: "1.6.0",
        id: "DEBIAN-CVE-2099-1111",
        aliases: ["CVE-2099-1111"],
        modified: "2026-11-01T00:00:00Z",
        severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" }], // 7.5: High
        affected: [{ package: { ecosystem: "Debian:12", name: "berthdemo" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.1-1" }] }] }],
      },
    ]),
  });
  expect(imported.status).toBeLessThan(300);
  const layer = await buildLayer({
    "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
    "var/lib/dpkg/status": "Package: berthdemo\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n",
  });
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.diffId] } }));
  await admin.pushBlob("team-a/vulnerable", layer.bytes);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MEDIA_TYPES.manifest,
    config: { mediaType: OCI_MEDIA_TYPES.config, digest: await admin.pushBlob("team-a/vulnerable", config), size: config.length },
    layers: [{ mediaType: OCI_MEDIA_TYPES.layer, digest: layer.digest, size: layer.size }],
  });
  const put = await admin.fetch("/v2/team-a/vulnerable/manifests/v1", { method: "PUT", headers: { "Content-Type": OCI_MEDIA_TYPES.manifest }, body: manifest });
  expect(put.status).toBe(201);
  expect((await admin.fetch("/api/v2.0/projects/team-a/repositories/vulnerable/artifacts/v1/scan", { method: "POST" })).status).toBe(202);
  const overview = async () =>
    ((await (await admin.fetch("/api/v2.0/projects/team-a/repositories/vulnerable/artifacts/v1?with_scan_overview=true")).json()) as { scan_overview?: Record<string, { scan_status: string; severity: string }> })
      .scan_overview?.[REPORT];
  await waitUntil(async () => (await overview())?.scan_status === "Success", "team-a/vulnerable:v1 is scanned");
  expect((await overview())?.severity).toBe("High");
  return put.headers.get("docker-content-digest")!;
}

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
  let vulnerable: string;

  it("creates the project without scanning settings: absent means not managed", async () => {
    expect((await controller(["apply"])).code).toBe(0);
    image = await admin.pushImage("team-a/app", "v1", "scanning-app-v1");
    vulnerable = await pushScannedImage();
    expect((await project("team-a")).metadata.prevent_vul).toBeUndefined();
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("plans turning prevention on with the images it would block, applies it, and then has nothing to do", async () => {
    await edit((text) => `${text}    autoScan: true\n    preventVulnerable:\n      severity: high\n`);
    await commit("Scan team-a on push and refuse High and above");
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('~ project team-a\n    autoScan: false → true\n    preventVulnerable: "off" → "high"\n');
    expect(plan.stdout).toContain("Vulnerability prevention impact:\n  team-a: preventVulnerable high would block 2 current image(s)\n");
    expect(plan.stdout).toContain(`      team-a/app@${image.manifestDigest} (v1) cannot be pulled: it has not been scanned, and the project refuses images without a vulnerability scan\n`);
    expect(plan.stdout).toContain(`      team-a/vulnerable@${vulnerable} (v1) cannot be pulled: it has a High vulnerability (CVE-2099-1111), and the project refuses High and above\n`);
    const markdown = await controller(["plan", "--format", "markdown"]);
    expect(new MarkdownIt({ html: true }).render(markdown.stdout)).toContain("<h4>Vulnerability prevention impact</h4>");
    const json = JSON.parse((await controller(["plan", "--format", "json"])).stdout) as { prevention: { project: string; blocks: { digest: string }[] }[] };
    expect(json.prevention).toEqual([expect.objectContaining({ project: "team-a", severity: "high", unchecked: 0 })]);
    expect(json.prevention[0].blocks.map((b) => b.digest).sort()).toEqual([image.manifestDigest, vulnerable].sort());

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
    await edit((text) => `${text.replace("severity: severe", "severity: high")}    cveAllowlist:\n      expiresAt: 2027-06-30\n      items: [CVE-2024-1234, CVE-2099-1111]\n`);
    await commit("Refuse High and above again, and allow two CVEs until the end of June 2027");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toContain(
      [
        "~ project team-a",
        '    preventVulnerable: "off" → "high"',
        "    cveAllowlist.useSystemAllowlist: true → false",
        '    cveAllowlist.expiresAt: null → "2027-06-30T00:00:00Z"',
        '    cveAllowlist.items: added "CVE-2024-1234"',
        '    cveAllowlist.items: added "CVE-2099-1111"',
      ].join("\n"),
    );
    // The preview applies the new allowlist: it excuses the scanned image's finding, not an image never scanned.
    expect(plan.stdout).toContain("team-a: preventVulnerable high would block 1 current image(s)\n");
    expect(plan.stdout).not.toContain(vulnerable);

    expect((await controller(["apply"])).code).toBe(0);
    const { metadata, cve_allowlist } = await project("team-a");
    expect(metadata.reuse_sys_cve_allowlist).toBe("false");
    expect(cve_allowlist.items.map((item) => item.cve_id).sort()).toEqual(["CVE-2024-1234", "CVE-2099-1111"]);
    expect(cve_allowlist.expires_at).toBe(Date.UTC(2027, 5, 30) / 1000);
    expect((await controller(["plan", "--detailed-exitcode"])).stdout).toBe("No changes: the registry matches the files.\n");
  });
});
