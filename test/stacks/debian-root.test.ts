/**
 * Slow (builds the release and, once a day, a Debian root): the Berth the stacks deploy, proven on a stock Debian 12.
 *
 * `npm run release` builds the artifact; a fresh Debian 12 root (mmdebstrap --variant=minbase: no Node, no npm)
 * gets it where the hosts target's copy puts it (/var/tmp), and the host script's Berth install part
 * (berthInstallScript, the same text the full host script holds) runs in the root with chroot. What it cannot do in
 * a chroot is faked: `systemctl` is a stub on PATH that records its calls; PostgreSQL and MinIO are not installed
 * (that part needs apt and a network peer, and Berth runs here with its embedded PGlite and file storage). The
 * server is then started the way its unit says (ExecStart, User=, EnvironmentFile=) from inside the root, and
 * answers /api/v2.0/health and a skopeo push from outside (the chroot shares the network).
 */
import { execFile } from "node:child_process";
import { copyFile, lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { controllerEnvironment } from "../../stacks/environment";
import { BERTH_DATA_DIR, berthInstallScript, HOST_SECRET_KEY_FILE, type HostArtifact } from "../../stacks/host-setup";
import type { ReleaseArtifact } from "../../stacks/release";
import { sharedRelease } from "../support/release-build";
import { ADMIN_CREDS, ADMIN_PASSWORD, spawnBerth, type BerthProcess } from "../support/berth";
import { createDebianRoot, type DebianRoot } from "../support/debian-root";
import { buildLayer, writeImage } from "../support/oci-image";
import { copy, inspect } from "../support/skopeo";
import { describeIf, findTool, testIf } from "../support/tools";

const run = promisify(execFile);
const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Records each call, one line of arguments each, where the test reads them. */
const SYSTEMCTL_STUB = `#!/bin/sh
echo "$*" >> /var/log/systemctl.calls
`;

const needs = process.getuid?.() === 0 && Boolean(findTool("mmdebstrap")) && Boolean(findTool("skopeo"));

describeIf(needs, "root, mmdebstrap and skopeo", "the release artifact installed by the host script in a Debian 12 root (slow)", () => {
  let work: string;
  let release: ReleaseArtifact;
  let root: DebianRoot;
  let server: BerthProcess | undefined;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "berth-debian-test-"));
    // `npm run release` of HEAD, shared with the release suite, read back with the stacks' own releaseArtifact().
    release = (await sharedRelease()).artifact;
    root = await createDebianRoot();
    await writeFile(path.join(root.dir, "usr/local/bin/systemctl"), SYSTEMCTL_STUB, { mode: 0o755 });
  }, 900_000);

  afterAll(async () => {
    await server?.kill("SIGKILL");
    await root?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The artifact as the hosts target has it on the machine: copied to /var/tmp by CopyToRemote. */
  async function upload(): Promise<HostArtifact> {
    const uploaded = `/var/tmp/${release.fileName}`;
    await copyFile(release.path, path.join(root.dir, uploaded));
    return { version: release.version, arch: release.arch, fileName: release.fileName, sha256: release.sha256, source: { kind: "file", path: uploaded } };
  }

  function install(artifact: HostArtifact, port = 0): Promise<string> {
    const script = berthInstallScript({
      artifact,
      registryEnv: {
        BERTH_ADDR: `127.0.0.1:${port}`,
        BERTH_METRICS_ADDR: "127.0.0.1:0",
        BERTH_DATA_DIR,
        BERTH_SECRET_KEY_FILE: HOST_SECRET_KEY_FILE,
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_LOG_LEVEL: "info",
        BERTH_CONTROLLER_REPO: "off",
      },
      controllerEnv: controllerEnvironment("http://127.0.0.1:5000", ADMIN_PASSWORD, { repo: "https://git.example.com/policies.git", branch: "", schedule: "*/5 * * * *" }),
      secretKey: Buffer.alloc(32, 9).toString("base64"),
      tls: null,
    });
    return root.exec(["/bin/bash", "-s"], { input: script, env: { PATH: ROOT_PATH } });
  }

  async function systemctlCalls(): Promise<string[]> {
    const file = path.join(root.dir, "var/log/systemctl.calls");
    const calls = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
    await rm(file, { force: true });
    return calls;
  }

  /** `Key=value` lines of a unit the script wrote. */
  async function unit(name: string): Promise<Record<string, string>> {
    const text = await readFile(path.join(root.dir, "etc/systemd/system", name), "utf8");
    return Object.fromEntries(text.split("\n").filter((line) => line.includes("=")).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  }

  it("has no Node or npm of its own", async () => {
    for (const tool of ["node", "nodejs", "npm"]) {
      await expect(root.exec(["/bin/sh", "-c", `command -v ${tool}`])).rejects.toThrow(`command -v ${tool} failed`);
    }
  });

  it("installs the checked artifact under /opt/berth/<version>, the current link, the berth user and its 0600 files", async () => {
    await install(await upload());
    expect(await readlink(path.join(root.dir, "opt/berth/current"))).toBe(release.version);
    const versionDir = path.join(root.dir, "opt/berth", release.version);
    expect((await readFile(path.join(versionDir, ".artifact-sha256"), "utf8")).trim()).toBe(release.sha256);
    const wrapper = await stat(path.join(versionDir, "bin/berth"));
    expect({ uid: wrapper.uid, executable: (wrapper.mode & 0o111) !== 0 }).toEqual({ uid: 0, executable: true });
    // The uploaded copy is gone once unpacked; the checked copy too.
    await expect(lstat(path.join(root.dir, "var/tmp", release.fileName))).rejects.toThrow(/ENOENT/);
    await expect(lstat(path.join(root.dir, "var/cache/berth", `berth-${release.version}.tar.gz`))).rejects.toThrow(/ENOENT/);

    const berthUid = Number((await root.exec(["id", "-u", "berth"])).trim());
    expect(berthUid).toBeGreaterThan(0);
    const files = { "etc/berth/berth.env": [0, 0o600], "etc/berth/controller.env": [0, 0o600], "etc/berth/secretkey": [berthUid, 0o600], "var/lib/berth": [berthUid, 0o700], "var/lib/berth-controller": [berthUid, 0o700] };
    for (const [file, [uid, mode]] of Object.entries(files)) {
      const info = await stat(path.join(root.dir, file));
      expect({ file, uid: info.uid, mode: info.mode & 0o777 }).toEqual({ file, uid, mode });
    }
    expect(await systemctlCalls()).toEqual(["daemon-reload", "enable berth berth-controller", "restart berth berth-controller"]);

    for (const [name, writable] of [["berth.service", BERTH_DATA_DIR], ["berth-controller.service", "/var/lib/berth-controller"]]) {
      expect(await unit(name)).toMatchObject({ User: "berth", Group: "berth", Restart: "on-failure", NoNewPrivileges: "yes", ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes", ReadWritePaths: writable, CapabilityBoundingSet: "" });
    }
  }, 120_000);

  testIf(Boolean(findTool("systemd-analyze")), "systemd-analyze (Debian's systemd)")("writes units systemd accepts, and the controller runs from the artifact too", async () => {
    // minbase has no systemd: the unit library the units refer to (targets) comes from this machine's systemd.
    await run("mkdir", ["-p", path.join(root.dir, "usr/lib/systemd")]);
    await run("cp", ["-r", "/usr/lib/systemd/system", path.join(root.dir, "usr/lib/systemd/")]);
    for (const name of ["berth.service", "berth-controller.service"]) {
      const { stderr } = await run("systemd-analyze", ["verify", `--root=${root.dir}`, name]);
      expect({ name, stderr }).toEqual({ name, stderr: "" });
    }
    const usage = await root.exec(["setpriv", "--reuid=berth", "--regid=berth", "--init-groups", "/opt/berth/current/bin/berth-controller", "--help"]);
    expect(usage).toContain("watch");
  });

  it("runs Berth from the artifact as its unit says, as the berth user: health and a skopeo push from outside", async () => {
    const berth = await unit("berth.service");
    expect(berth.ExecStart).toBe("/opt/berth/current/bin/berth serve");
    // What systemd does with the unit: read the env file as root, then run ExecStart as User= with no capabilities.
    const asTheUnit = `set -a; . ${berth.EnvironmentFile}; set +a; exec setpriv --reuid=${berth.User} --regid=${berth.Group} --init-groups --no-new-privs --inh-caps=-all ${berth.ExecStart}`;
    server = await spawnBerth({}, root.chroot(["/usr/bin/env", "-i", `PATH=${ROOT_PATH}`, "/bin/bash", "-c", asTheUnit]));
    const health = await fetch(`${server.url}/api/v2.0/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "healthy" });

    const layout = path.join(work, "layout");
    const image = await writeImage(layout, { tag: "1.0", layers: [await buildLayer({ "hello.txt": "from a Debian 12 root" })] });
    const reference = `docker://${server.host}/library/debian-root:1.0`;
    await copy(`oci:${layout}:1.0`, reference, { destCreds: ADMIN_CREDS });
    expect((await inspect(reference, { creds: ADMIN_CREDS })).Digest).toBe(image.manifestDigest);

    // The server runs as berth, and what it wrote is berth's, inside its data directory.
    const berthUid = Number((await root.exec(["id", "-u", "berth"])).trim());
    // chroot, env, bash, setpriv and the bin/berth wrapper each exec the next: the spawned process is the server.
    expect((await stat(`/proc/${server.child.pid}`)).uid).toBe(berthUid);
    expect((await stat(path.join(root.dir, BERTH_DATA_DIR, "pg"))).uid).toBe(berthUid);
    await server.kill("SIGTERM");
    server = undefined;
  }, 180_000);

  it("runs again without changes, and an upgrade is a new version directory, the link switched and a restart; roll-back points it back", async () => {
    const artifact = await upload();
    await install(artifact);
    expect(await systemctlCalls()).toEqual(["daemon-reload", "enable --now berth berth-controller"]);

    // The same tarball under a newer version number stands in for a new release: the mechanics are the same.
    const next = { ...artifact, version: `${release.version}-next` };
    await upload();
    await install(next);
    expect(await readlink(path.join(root.dir, "opt/berth/current"))).toBe(next.version);
    expect((await stat(path.join(root.dir, "opt/berth", release.version, "bin/berth"))).isFile()).toBe(true);
    expect(await systemctlCalls()).toEqual(["daemon-reload", "enable berth berth-controller", "restart berth berth-controller"]);

    // README's roll-back, as written there.
    await root.exec(["/bin/bash", "-c", `ln -sfn ${release.version} /opt/berth/current.next && mv -T /opt/berth/current.next /opt/berth/current && systemctl restart berth berth-controller`], { env: { PATH: ROOT_PATH } });
    expect(await readlink(path.join(root.dir, "opt/berth/current"))).toBe(release.version);
    expect(await systemctlCalls()).toEqual(["restart berth berth-controller"]);
  }, 120_000);

  it("refuses an artifact whose SHA-256 is not the stack's, and leaves the installed version alone", async () => {
    const artifact = await upload();
    await writeFile(path.join(root.dir, "var/tmp", release.fileName), "tampered");
    const other = { ...artifact, version: `${release.version}-tampered` };
    await expect(install(other)).rejects.toThrow("the Berth release does not have the SHA-256 the stack expects");
    await expect(lstat(path.join(root.dir, "opt/berth", other.version))).rejects.toThrow(/ENOENT/);
    expect(await readlink(path.join(root.dir, "opt/berth/current"))).toBe(release.version);
    expect(await systemctlCalls()).toEqual([]);
  });
});
