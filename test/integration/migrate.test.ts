import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_CREDS, startBerth, type TestBerth } from "../support/berth";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { OCI_MANIFEST, RegistryClient, type PushedImage } from "../support/registry-client";
import { describeWithTool } from "../support/tools";
import { runCli } from "../support/cli";

/** Runs the built `berth migrate` to its end. */
const berthMigrate = (args: string[]) => runCli("berth", ["migrate", ...args]);

interface Report {
  copied: { repository: string; destination: string; tag: string; digest: string }[];
  skipped: unknown[];
  failed: { repository: string; tag: string; error: string }[];
  bytes: number;
}

describeWithTool("docker-registry", "berth migrate from docker-registry", () => {
  let source: ReferenceRegistry;
  let berth: TestBerth;
  let work: string;
  const pushed = new Map<string, PushedImage>();
  let index: string;

  beforeAll(async () => {
    [source, berth] = await Promise.all([startReferenceRegistry(), startBerth()]);
    work = await mkdtemp(path.join(tmpdir(), "berth-migrate-"));
    const upstream = new RegistryClient(source.url, null);
    for (const repository of ["nginx", "team/api", "team/web"]) {
      for (const tag of ["1.0", "2.0"]) pushed.set(`${repository}:${tag}`, await upstream.pushImage(repository, tag, `${repository}-${tag}`));
    }
    // A two-platform index (distribution cannot untag, so its children keep tags of their own).
    const amd = await upstream.pushImage("multi", "amd64", "multi-amd64");
    const arm = await upstream.pushImage("multi", "arm64", "multi-arm64");
    index = await upstream.pushIndex("multi", "latest", [amd, arm]);
    await new RegistryClient(berth.url).createProject("mirror", { public: false });
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), berth?.close()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const destination = () => `${berth.url}/mirror`;

  it("previews with --dry-run and copies nothing", async () => {
    const result = await berthMigrate(["--from", source.url, "--to", destination(), "--dest-creds", ADMIN_CREDS, "--dry-run", "--include", "team/**"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("would copy 4 tag(s)");
    expect(result.stdout).toContain("team/api:1.0 → mirror/team/api:1.0");
    expect((await new RegistryClient(berth.url).fetch("/v2/mirror/team/api/tags/list")).status).toBe(404);
  });

  it("copies every repository and tag under the project, indexes with their platforms, with a report", async () => {
    const reportFile = path.join(work, "report.json");
    const result = await berthMigrate(["--from", source.url, "--to", destination(), "--dest-creds", ADMIN_CREDS, "--jobs", "3", "--incremental", "--report", reportFile]);
    expect(result.stdout).toMatch(/failed 0/);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/9\/9 tags/); // the progress bar's last line
    const report = JSON.parse(await readFile(reportFile, "utf8")) as Report;
    expect(report.copied).toHaveLength(9);
    expect(report.failed).toEqual([]);
    expect(report.bytes).toBeGreaterThan(0);

    const berthClient = new RegistryClient(berth.url);
    for (const [reference, image] of pushed) {
      const [repository, tag] = reference.split(":");
      const head = await berthClient.fetch(`/v2/mirror/${repository}/manifests/${tag}`, { method: "HEAD", headers: { Accept: OCI_MANIFEST } });
      expect(head.headers.get("docker-content-digest")).toBe(image.manifestDigest);
      expect(await berthClient.pulledDigest(`mirror/${repository}`, image.layerDigest)).toBe(image.layerDigest);
    }
    const copiedIndex = await berthClient.fetch("/v2/mirror/multi/manifests/latest", { headers: { Accept: "application/vnd.oci.image.index.v1+json" } });
    expect(await copiedIndex.text()).toBe(index);
    for (const child of (JSON.parse(index) as { manifests: { digest: string }[] }).manifests) {
      expect((await berthClient.fetch(`/v2/mirror/multi/manifests/${child.digest}`, { method: "HEAD", headers: { Accept: OCI_MANIFEST } })).status).toBe(200);
    }
  });

  it("copies nothing the second time (--incremental)", async () => {
    const result = await berthMigrate(["--from", source.url, "--to", destination(), "--dest-creds", ADMIN_CREDS, "--incremental"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^copied 0 tag\(s\) \(0 bytes sent, 0 blob\(s\) already there\), skipped 9 already up to date, failed 0/);
  });

  it("creates a missing destination project (private) once, before copying; --dry-run only says it would", async () => {
    const admin = new RegistryClient(berth.url);
    const exists = async () => (await admin.fetch("/api/v2.0/projects?project_name=fresh", { method: "HEAD" })).status;
    const preview = await berthMigrate(["--from", source.url, "--to", `${berth.url}/fresh`, "--dest-creds", ADMIN_CREDS, "--include", "team/**", "--incremental", "--dry-run"]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^would create project fresh \(private\)\nwould copy 4 tag\(s\)/);
    expect(await exists()).toBe(404);

    const result = await berthMigrate(["--from", source.url, "--to", `${berth.url}/fresh`, "--dest-creds", ADMIN_CREDS, "--include", "team/**", "--jobs", "4"]);
    expect(result.stdout).toMatch(/^created project fresh \(private\)\ncopied 4 tag\(s\)/);
    expect(result.code).toBe(0);
    const project = (await (await admin.fetch("/api/v2.0/projects/fresh")).json()) as { metadata: { public: string } };
    expect(project.metadata.public).toBe("false");
    expect(await admin.digestOf("fresh/team/api", "2.0")).toBe(pushed.get("team/api:2.0")!.manifestDigest);
    // One creation for four parallel copies: the audit log has a single project create.
    const logs = (await (await admin.fetch("/api/v2.0/audit-logs?q=operation=create,resource_type=project,resource=fresh")).json()) as unknown[];
    expect(logs).toHaveLength(1);

    const again = await berthMigrate(["--from", source.url, "--to", `${berth.url}/fresh`, "--dest-creds", ADMIN_CREDS, "--include", "team/**", "--incremental"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^copied 0 tag\(s\)/);
  });

  it("leaves a destination without projects (docker-registry) as it is", async () => {
    const plain = await startReferenceRegistry();
    try {
      const result = await berthMigrate(["--from", source.url, "--to", `${plain.url}/copies`, "--include", "nginx"]);
      expect(result.stdout).toMatch(/^copied 2 tag\(s\)/);
      expect(result.code).toBe(0);
      expect(await new RegistryClient(plain.url, null).digestOf("copies/nginx", "1.0")).toBe(pushed.get("nginx:1.0")!.manifestDigest);
    } finally {
      await plain.stop();
    }
  });

  it("reports each failure with the registry and what it answered, and exits 1", async () => {
    const admin = new RegistryClient(berth.url);
    const reader = await admin.createRobot({
      name: "reader",
      level: "project",
      duration: -1,
      permissions: [{ kind: "project", namespace: "mirror", access: [{ resource: "repository", action: "pull" }] }],
    });
    // mirror/nginx holds every blob already, so the manifest is the first write and the first refusal.
    const refused = await berthMigrate(["--from", source.url, "--to", destination(), "--dest-creds", `${reader.name}:${reader.secret}`, "--include", "nginx"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /failed nginx:1\.0: http:\/\/127\.0\.0\.1:\d+: PUT \/v2\/mirror\/nginx\/manifests\/1\.0 answered 403: .*unauthorized to access repository: mirror\/nginx, action: push/,
    );
    const badProject = await berthMigrate(["--from", source.url, "--to", `${berth.url}/Not_A_Project`, "--dest-creds", ADMIN_CREDS, "--include", "nginx"]);
    expect(badProject.code).toBe(1);
    expect(badProject.stdout).toMatch(/failed nginx:1\.0: http:\/\/127\.0\.0\.1:\d+: creating project Not_A_Project answered 400: .*lower case/);
  });

  it("refuses bad usage with exit code 2", async () => {
    const result = await berthMigrate(["--from", "ftp://x", "--to", destination()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--from must be an http/);
  });
});
