import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildLayer } from "./oci-image";
import { OCI_MANIFEST, type RegistryClient } from "./registry-client";

const run = promisify(execFile);

/** What `podman image inspect` tells about an image (the fields the tests read). */
export interface ImageInspection {
  Size: number;
  Config: {
    User?: string;
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Volumes?: Record<string, object>;
    ExposedPorts?: Record<string, object>;
  };
  /** Kept only in the docker image format (`podman build --format docker`). */
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
}

/**
 * podman with storage of its own (vfs under a temp --root and --runroot): a test never sees or changes the machine's
 * images, and removing the directory removes everything it made (vfs mounts nothing).
 */
export class Podman {
  private constructor(
    readonly binary: string,
    private readonly dir: string,
  ) {}

  static async create(binary: string): Promise<Podman> {
    return new Podman(binary, await mkdtemp(path.join(tmpdir(), "berth-podman-")));
  }

  /** The global options that select this storage; they may also follow a subcommand (`podman build … <these>`). */
  get storageOptions(): string[] {
    return ["--root", path.join(this.dir, "root"), "--runroot", path.join(this.dir, "runroot"), "--storage-driver", "vfs"];
  }

  /**
   * Runs `podman <args>` on this storage (with `env` added to the environment, e.g. CONTAINERS_REGISTRIES_CONF) and
   * returns its standard output. The blob-info cache stays in the temp dir too: containers/image puts it under
   * XDG_DATA_HOME once $_CONTAINERS_ROOTLESS_UID is set.
   */
  async run(args: string[], env: Record<string, string> = {}): Promise<string> {
    const isolated = { XDG_DATA_HOME: path.join(this.dir, "data"), ...(process.geteuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: "1" } : {}) };
    const { stdout } = await run(this.binary, [...this.storageOptions, ...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...isolated, ...env } });
    return stdout.trim();
  }

  /**
   * Runs `podman <args>` on this storage and reports how it ended, failures included (a refused pull). Its temp files
   * and blob-info cache stay in this storage too (containers/image puts the cache under XDG_DATA_HOME once
   * $_CONTAINERS_ROOTLESS_UID is set, see skopeo.ts).
   */
  attempt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const global = [...this.storageOptions, "--tmpdir", path.join(this.dir, "tmp"), "--events-backend", "none"];
    const env = { ...process.env, XDG_DATA_HOME: path.join(this.dir, "data"), ...(process.geteuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: "1" } : {}) };
    return new Promise((resolve) =>
      execFile(this.binary, [...global, ...args], { env }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );
  }

  async inspectImage(reference: string): Promise<ImageInspection> {
    const [inspection] = JSON.parse(await this.run(["image", "inspect", reference])) as ImageInspection[];
    return inspection;
  }

  /**
   * The image's root filesystem as a directory, without running a container (this podman may not be able to). With
   * vfs it is the image's own layer: what a test writes there changes this throwaway storage only.
   */
  async imageRoot(image: string): Promise<string> {
    return this.run(["image", "mount", image]);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
