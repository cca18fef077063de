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

  /** Runs `podman <args>` on this storage and returns its standard output. */
  async run(args: string[]): Promise<string> {
    const { stdout } = await run(this.binary, [...this.storageOptions, ...args], { maxBuffer: 64 * 1024 * 1024 });
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

/** Pushes a one-layer image whose layer is a real tar (podman unpacks what it pulls); returns the manifest digest. */
export async function pushUnpackableImage(client: RegistryClient, repository: string, tag: string): Promise<string> {
  const layer = await buildLayer({ "hello.txt": `${repository}:${tag}` });
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.diffId] } }));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await client.pushBlob(repository, config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: await client.pushBlob(repository, layer.bytes), size: layer.size }],
  });
  const response = await client.fetch(`/v2/${repository}/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
  expect(response.status).toBe(201);
  return response.headers.get("docker-content-digest")!;
}
