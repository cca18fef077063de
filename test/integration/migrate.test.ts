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

  it("reports each failure with the registry and what it answered, and exits 1", async () => {
    const result = await berthMigrate(["--from", source.url, "--to", `${berth.url}/no-such-project`, "--dest-creds", ADMIN_CREDS, "--include", "nginx"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed nginx:1\.0: http:\/\/127\.0\.0\.1:\d+: POST \/v2\/no-such-project\/nginx\/blobs\/uploads\/ answered 404: .*no-such-project does not exist/);
  });

  it("refuses bad usage with exit code 2", async () => {
    const result = await berthMigrate(["--from", "ftp://x", "--to", destination()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--from must be an http/);
  });
});
