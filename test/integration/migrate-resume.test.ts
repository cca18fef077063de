import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_CREDS, startBerth, type TestBerth } from "../support/berth";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { OCI_MANIFEST, RegistryClient, type PushedImage } from "../support/registry-client";
import { sha256Of } from "../support/seeded-bytes";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";
import { spawnCli } from "../support/cli";
import { inParallel } from "../../registry/replication/parallel";

// 20 repositories × 3 tags: enough tags that a --jobs 1 run is still busy when the first few have landed.
const REPOSITORIES = Array.from({ length: 20 }, (_, i) => `app-${String(i).padStart(2, "0")}`);
const TAGS = ["1.0", "1.1", "2.0"];
const TOTAL = REPOSITORIES.length * TAGS.length;

interface Outcome {
  repository: string;
  destination: string;
  tag: string;
  digest?: string;
  error?: string;
}

interface Report {
  copied: Outcome[];
  skipped: Outcome[];
  failed: Outcome[];
  bytes: number;
  blobsSkipped: number;
}

const spawnMigrate = (args: string[]) => spawnCli("berth", ["migrate", ...args]);
const key = (repository: string, tag: string) => `${repository}:${tag}`;

describeWithTool("docker-registry", "berth migrate resumes an interrupted run", () => {
  let source: ReferenceRegistry;
  let berth: TestBerth;
  let work: string;
  /** What was pushed to the source, by `repository:tag`. */
  const pushed = new Map<string, PushedImage>();

  beforeAll(async () => {
    [source, berth] = await Promise.all([startReferenceRegistry(), startBerth()]);
    work = await mkdtemp(path.join(tmpdir(), "berth-migrate-resume-"));
    const upstream = new RegistryClient(source.url, null);
    // Repositories in parallel, each one's tags in turn; every image has its own seed, so no two share a digest.
    await Promise.all(
      REPOSITORIES.map(async (repository) => {
        for (const tag of TAGS) pushed.set(key(repository, tag), await upstream.pushImage(repository, tag, `${repository}-${tag}`));
      }),
    );
    expect(new Set([...pushed.values()].map((image) => image.manifestDigest)).size).toBe(TOTAL);
    await new RegistryClient(berth.url).createProject("mirror", { public: false });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), berth?.close()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const migrateArgs = (report: string) => ["--from", source.url, "--to", `${berth.url}/mirror`, "--dest-creds", ADMIN_CREDS, "--jobs", "1", "--incremental", "--report", report];
  const readReport = async (file: string) => JSON.parse(await readFile(file, "utf8")) as Report;

  /** The `repository:tag`s Berth serves under the project right now, read through its tags lists. */
  async function landedTags(repositories = REPOSITORIES): Promise<Set<string>> {
    const client = new RegistryClient(berth.url);
    const landed = new Set<string>();
    await Promise.all(
      repositories.map(async (repository) => {
        const response = await client.fetch(`/v2/mirror/${repository}/tags/list`);
        if (response.status === 404) return; // nothing pushed to this repository yet
        expect(response.status).toBe(200);
        for (const tag of ((await response.json()) as { tags?: string[] | null }).tags ?? []) landed.add(key(repository, tag));
      }),
    );
    return landed;
  }

  it("resumes after a kill: the re-run skips what landed, copies the rest, and a third run copies nothing", async () => {
    // 1. Start a one-job run and SIGKILL it once a few tags have landed. With --jobs 1 it copies repositories in
    //    sorted order, so watching the first two repositories is enough to see the first tags arrive.
    const first = spawnMigrate(migrateArgs(path.join(work, "r1.json")));
    let exitedEarly = false;
    void first.exited.then(() => (exitedEarly = true));
    await waitUntil(async () => exitedEarly || (await landedTags(REPOSITORIES.slice(0, 2))).size >= 3, "3 tags to land in Berth", 60_000);
    // The kill must hit a run that is still going, or this test would only be re-running a finished migration.
    expect(exitedEarly).toBe(false);
    first.child.kill("SIGKILL");
    const killed = await first.exited;
    expect(killed.signal).toBe("SIGKILL");
    // The bar starts with the full count before any tag is copied, so even the killed run printed it.
    expect(killed.stderr).toMatch(new RegExp(`\\b0/${TOTAL} tags`));
    // Killed before its end, it never got to the summary or the report.
    expect(killed.stdout).toBe("");
    await expect(readFile(path.join(work, "r1.json"))).rejects.toThrow(/ENOENT/);

    const before = await landedTags();
    expect(before.size).toBeGreaterThanOrEqual(3);
    expect(before.size).toBeLessThan(TOTAL);

    // 2. The re-run finishes the job: everything that had landed is skipped, the rest copied, nothing twice.
    const second = await spawnMigrate(migrateArgs(path.join(work, "r2.json"))).exited;
    expect(second.stdout).toMatch(/failed 0\n$/);
    expect(second.code).toBe(0);
    const r2 = await readReport(path.join(work, "r2.json"));
    expect(r2.failed).toEqual([]);
    expect(r2.skipped.length).toBeGreaterThanOrEqual(before.size);
    expect(r2.copied.length + r2.skipped.length).toBe(TOTAL);
    const skipped = new Set(r2.skipped.map((item) => key(item.repository, item.tag)));
    for (const tag of before) expect(skipped).toContain(tag);
    const handled = new Set([...r2.copied, ...r2.skipped].map((item) => key(item.repository, item.tag)));
    expect([...handled].sort()).toEqual([...pushed.keys()].sort());
    for (const item of [...r2.copied, ...r2.skipped]) {
      expect(item.destination).toBe(`mirror/${item.repository}`);
      expect(item.digest).toBe(pushed.get(key(item.repository, item.tag))!.manifestDigest);
    }

    // 3. Every tag is pullable from Berth at the digest the source serves for it, blobs included.
    const upstream = new RegistryClient(source.url, null);
    const berthClient = new RegistryClient(berth.url);
    await inParallel([...pushed], 8, async ([reference, image]) => {
      const [repository, tag] = reference.split(":");
      const sourceHead = await upstream.fetch(`/v2/${repository}/manifests/${tag}`, { method: "HEAD", headers: { Accept: OCI_MANIFEST } });
      expect(sourceHead.headers.get("docker-content-digest")).toBe(image.manifestDigest);
      const head = await berthClient.fetch(`/v2/mirror/${repository}/manifests/${tag}`, { method: "HEAD", headers: { Accept: OCI_MANIFEST } });
      expect(head.status).toBe(200);
      expect(head.headers.get("docker-content-digest")).toBe(sourceHead.headers.get("docker-content-digest"));
      const manifest = await berthClient.fetch(`/v2/mirror/${repository}/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } });
      expect(manifest.status).toBe(200);
      expect(sha256Of(Buffer.from(await manifest.arrayBuffer()))).toBe(image.manifestDigest);
      expect(await berthClient.pulledDigest(`mirror/${repository}`, image.configDigest)).toBe(image.configDigest);
      expect(await berthClient.pulledDigest(`mirror/${repository}`, image.layerDigest)).toBe(image.layerDigest);
    });

    // 4. Nothing is left to do.
    const third = await spawnMigrate(migrateArgs(path.join(work, "r3.json"))).exited;
    expect(third.code).toBe(0);
    expect(third.stdout).toBe(`copied 0 tag(s) (0 bytes sent, 0 blob(s) already there), skipped ${TOTAL} already up to date, failed 0\n`);
    const r3 = await readReport(path.join(work, "r3.json"));
    expect(r3.copied).toEqual([]);
    expect(r3.skipped).toHaveLength(TOTAL);
    expect(r3.failed).toEqual([]);
    expect(r3.bytes).toBe(0);
  }, 120_000);

  it("shows progress on stderr and a one-line summary on stdout when not on a terminal", async () => {
    // A new project, so this run copies everything instead of skipping what the other test left behind.
    await new RegistryClient(berth.url).createProject("progress", { public: false });
    const result = await spawnMigrate(["--from", source.url, "--to", `${berth.url}/progress`, "--dest-creds", ADMIN_CREDS, "--jobs", "4"]).exited;
    expect(result.code).toBe(0);
    // Off a terminal cli-progress prints the bar as plain lines: one when it starts, one every 5 s, one at the end.
    const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(new RegExp(`\\b0/${TOTAL} tags \\| 0 B \\|`));
    expect(lines.at(-1)).toMatch(new RegExp(`\\b${TOTAL}/${TOTAL} tags \\| \\d+\\.\\d MiB \\| ETA .* \\| copied app-\\d\\d:\\d\\.\\d$`));
    expect(result.stdout).toMatch(new RegExp(`^copied ${TOTAL} tag\\(s\\) \\(\\d+ bytes sent, \\d+ blob\\(s\\) already there\\), skipped 0 already up to date, failed 0\\n$`));
  }, 120_000);
});
