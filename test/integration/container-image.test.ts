/**
 * The Containerfile's final stage, built for real by `npm run image` with podman, from this checkout's dist/ and
 * production node_modules. Its two other stages run commands, which this machine's podman cannot (nor pull the node
 * base image), so they are replaced by stand-ins (test/support/image-stages.ts) through --build-context; the image is
 * then checked by its configuration and by running its command and its healthcheck in its root filesystem, as the
 * image's user, with chroot.
 */
import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../package.json";
import { IMAGE_DATA_DIR, IMAGE_USER_ID } from "../../stacks/image";
import { ADMIN_AUTH, ADMIN_PASSWORD, spawnBerth, type BerthProcess } from "../support/berth";
import { addDefaultDevices, chrootCommand, importRuntimeBase, prepareBuildStage } from "../support/image-stages";
import { Podman, type ImageInspection } from "../support/podman";
import { describeWithTool, findTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const REPO = path.join(__dirname, "..", "..");
const TAG = `localhost/${packageJson.name}:${packageJson.version}`;
const RUNTIME_BASE = "localhost/berth-runtime-base:stand-in";
const SECOND = 1e9;

describeWithTool("podman", "the container image (Containerfile, final stage built with podman)", () => {
  let podman: Podman;
  let image: ImageInspection;
  let root: string;
  let server: BerthProcess | undefined;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this suite needs root: podman's own storage, chown and chroot");
    podman = await Podman.create(findTool("podman")!);
    const build = await prepareBuildStage();
    try {
      await importRuntimeBase(podman, RUNTIME_BASE);
      // Exactly `npm run image`, pointed at the test's storage and stand-ins; one layer (vfs copies each one whole).
      await promisify(execFile)(
        "npm",
        ["run", "image", "--", ...podman.storageOptions, "--layers=false", "--build-context", `build=${build.dir}`, "--build-context", `runtime-base=container-image://${RUNTIME_BASE}`],
        { cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
      );
    } finally {
      await build.remove();
    }
    image = await podman.inspectImage(TAG);
    root = await podman.imageRoot(TAG);
    await addDefaultDevices(root);
  }, 240_000);

  afterAll(async () => {
    await server?.kill("SIGKILL");
    await podman?.remove();
  });

  /** `command` in the image's root filesystem as its user, in its working directory, with its environment plus `env`. */
  function inImage(command: string[], env: Record<string, string> = {}): string[] {
    return chrootCommand(root, image, command, env);
  }

  async function healthcheck(address: string): Promise<{ code: number; stdout: string }> {
    const [command, ...args] = inImage(image.Healthcheck!.Test.slice(1), { BERTH_ADDR: address });
    return promisify(execFile)(command, args).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  }

  it("is tagged with package.json's name and version, as the Kubernetes stack's default image", async () => {
    expect(await podman.run(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", TAG])).toBe(TAG);
  });

  it("runs `berth serve` as the fixed non-root user, with /data as its volume and the settings to listen on 5000", () => {
    expect(image.Config.User).toBe(`${IMAGE_USER_ID}:${IMAGE_USER_ID}`);
    expect(image.Config.Cmd).toEqual(["berth", "serve"]);
    expect(image.Config.Entrypoint ?? null).toBeNull();
    expect(image.Config.WorkingDir).toBe("/app");
    expect(Object.keys(image.Config.Volumes ?? {})).toEqual([IMAGE_DATA_DIR]);
    expect(Object.keys(image.Config.ExposedPorts ?? {})).toEqual(["5000/tcp"]);
    expect(image.Config.Env).toEqual(expect.arrayContaining([`BERTH_DATA_DIR=${IMAGE_DATA_DIR}`, "BERTH_ADDR=0.0.0.0:5000"]));
  });

  it("checks its health with the compiled healthcheck (no curl in the slim base)", () => {
    expect(image.Healthcheck).toEqual({
      Test: ["CMD", "node", "/app/dist/registry/ops/healthcheck.js"],
      Interval: 30 * SECOND,
      Timeout: 10 * SECOND,
      StartPeriod: 60 * SECOND,
      Retries: 3,
    });
  });

  it("holds only what the server needs, owned by root, with /data owned by its user", async () => {
    expect((await readdir(path.join(root, "app"))).sort()).toEqual(["dist", "node_modules", "package.json"]);
    expect((await readdir(path.join(root, "app", "node_modules"))).filter((name) => ["jest", "@swc", "s3rver", "fast-check", "markdown-it", "preact", "esbuild", "playwright-core"].includes(name))).toEqual([]);
    expect(await readdir(path.join(root, "app", "dist", "registry", "db", "migrations"))).toContain("001_init.sql");
    // The web UI is in the image only as built files (bundled; its build tools are development dependencies).
    expect(await readdir(path.join(root, "app", "dist", "ui"))).toEqual(expect.arrayContaining(["index.html", "assets"]));
    for (const main of ["registry", "controller"]) {
      const file = await stat(path.join(root, "app", "dist", main, "main.js"));
      expect({ uid: file.uid, mode: file.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 });
    }
    const data = await stat(path.join(root, IMAGE_DATA_DIR));
    expect({ uid: data.uid, gid: data.gid }).toEqual({ uid: IMAGE_USER_ID, gid: IMAGE_USER_ID });
  });

  it("serves /api/v2.0/health from its command, keeps its policy repository in /data as its user, and its healthcheck follows the server", async () => {
    // The image's own command and settings; only the address is the loopback's (an ephemeral port).
    server = await spawnBerth({}, inImage(image.Config.Cmd!, { BERTH_ADDR: "127.0.0.1:0", BERTH_METRICS_ADDR: "127.0.0.1:0", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD }));
    const port = new URL(server.url).port;
    const response = await fetch(`${server.url}/api/v2.0/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "healthy" });

    // The first start made the registry's policy repository with git, and the embedded controller cloned and applied it.
    const runs = async () => (await (await fetch(`${server!.url}/api/v2.0/controller/runs`, { headers: { Authorization: ADMIN_AUTH } })).json()) as { result: string }[];
    await waitUntil(async () => (await runs()).length > 0, "the embedded controller recorded a run", 90_000).catch((error) => {
      throw new Error(`${(error as Error).message}; berth said:\n${server!.output()}`);
    });
    expect((await runs()).map((run) => run.result)).not.toContain("failed");
    expect(server.output()).not.toMatch(/did not start/);
    for (const written of ["policies/.git", "controller/repo/.git", ...(await readdir(path.join(root, IMAGE_DATA_DIR)))]) {
      expect((await stat(path.join(root, IMAGE_DATA_DIR, written))).uid).toBe(IMAGE_USER_ID);
    }

    // The image's BERTH_ADDR form (a wildcard address) with the server's port.
    const healthy = await healthcheck(`0.0.0.0:${port}`);
    expect(healthy.stdout).toMatch(/^200 /);
    expect(healthy.code).toBe(0);

    await server.kill("SIGTERM");
    expect(server.child.exitCode).toBe(0);
    server = undefined;
    const down = await healthcheck(`0.0.0.0:${port}`);
    expect(down.stdout).toMatch(/^unreachable: .*ECONNREFUSED/);
    expect(down.code).toBe(1);
  }, 180_000);
});
