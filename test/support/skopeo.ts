/**
 * Thin async wrappers around the skopeo CLI for interop tests (no shell: arguments go straight to execFile).
 *
 * Every call is hermetic:
 * - `--insecure-policy`, so a host without /etc/containers/policy.json still works;
 * - docker:// references get `--tls-verify=false` (test registries listen on plain http://127.0.0.1) unless a test
 *   asks for verification, and either the given credentials or `--no-creds`, so credentials from the host's auth
 *   files never leak into a test;
 * - a fresh, private blob-info cache (see `isolatedEnvironment`).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findTool } from "./tools";

/** `user:password`, as skopeo's `--creds` takes it. */
export type Creds = string;

/**
 * How a docker:// side checks the registry's certificate: "off" (plain http test registries; the default), against
 * the CAs in `certDir` (a directory holding `ca.crt`), or against the system's CAs only ("system").
 */
export type TlsVerification = "off" | "system" | { certDir: string };

export interface CopyOptions {
  srcCreds?: Creds;
  destCreds?: Creds;
  /** Copy every platform of an index and the index itself (`--multi-arch=all`), not just the host's platform. */
  all?: boolean;
  /** Fail rather than silently re-encode when the manifest cannot be copied byte for byte. Default true. */
  preserveDigests?: boolean;
  /**
   * A blob-info cache directory the caller keeps across copies (instead of a fresh one), so skopeo knows where it
   * pushed blobs before and mounts them across repositories: for tests that observe mounts.
   */
  blobInfoCache?: string;
  srcTls?: TlsVerification;
  destTls?: TlsVerification;
}

export interface InspectOptions {
  creds?: Creds;
  /** The image config instead of the manifest. */
  config?: boolean;
  tls?: TlsVerification;
}

/** The subset of `skopeo inspect`'s JSON the tests use. */
export interface InspectResult {
  Name?: string;
  Digest: string;
  RepoTags: string[] | null;
  Architecture: string;
  Os: string;
  Layers: string[];
  LayersData?: Array<{ MIMEType: string; Digest: string; Size: number; Annotations: Record<string, string> | null }>;
}

export class SkopeoError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`skopeo ${redactCreds(args).join(" ")} failed (exit ${exitCode}): ${stderr.trim()}`);
    this.name = "SkopeoError";
  }
}

function redactCreds(args: string[]): string[] {
  return args.map((arg) => arg.replace(/^(--[a-z-]*creds=)[^:]*:.*$/, "$1<redacted>"));
}

const DOCKER_TRANSPORT = "docker://";

/** Flags for one side of a command; `side` is "src-", "dest-" or "" for single-image commands. */
function registryFlags(ref: string, creds: Creds | undefined, side: "src-" | "dest-" | "", tls: TlsVerification = "off"): string[] {
  if (!ref.startsWith(DOCKER_TRANSPORT)) {
    if (creds !== undefined) throw new Error(`credentials only apply to ${DOCKER_TRANSPORT} references, not ${ref}`);
    return [];
  }
  const verification = tls === "off" ? [`--${side}tls-verify=false`] : tls === "system" ? [] : [`--${side}cert-dir=${tls.certDir}`];
  return [...verification, creds !== undefined ? `--${side}creds=${creds}` : `--${side}no-creds`];
}

/**
 * The environment for one skopeo run, with its blob-info cache under `cacheHome`.
 *
 * skopeo remembers which registry repositories hold which blobs (blob-info-cache-v1.*) and later mounts those
 * blobs across repositories instead of uploading them, so a test could pass because of an earlier run. Its
 * CLI has no flag for the cache location (only the library's SystemContext.BlobInfoCacheDir has), but
 * containers/image puts the cache under $XDG_DATA_HOME/containers/cache for non-root users. For root it uses
 * /var/lib/containers/cache; it decides who is root from $_CONTAINERS_ROOTLESS_UID before geteuid(), so
 * setting that variable sends root to XDG_DATA_HOME too. That variable otherwise only matters to the
 * containers-storage transport and to default auth-file paths, neither of which these helpers use.
 */
function isolatedEnvironment(cacheHome: string): NodeJS.ProcessEnv {
  const runningAsRoot = process.geteuid?.() === 0;
  return {
    ...process.env,
    XDG_DATA_HOME: cacheHome,
    ...(runningAsRoot ? { _CONTAINERS_ROOTLESS_UID: "1" } : {}),
  };
}

function execSkopeo(args: string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  const skopeo = findTool("skopeo") ?? "skopeo";
  return new Promise((resolve, reject) => {
    execFile(skopeo, args, { env, encoding: "buffer", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new SkopeoError(args, error.code ?? null, stderr.toString() || error.message));
      else resolve(stdout);
    });
  });
}

/**
 * Runs skopeo with a private blob-info cache that is thrown away afterwards (or the caller's `keptCache`);
 * resolves to its stdout bytes.
 */
async function runSkopeo(args: string[], keptCache?: string): Promise<Buffer> {
  const cacheHome = keptCache ?? (await mkdtemp(path.join(tmpdir(), "berth-skopeo-")));
  try {
    return await execSkopeo(["--insecure-policy", ...args], isolatedEnvironment(cacheHome));
  } finally {
    if (keptCache === undefined) await rm(cacheHome, { recursive: true, force: true });
  }
}

export async function copy(src: string, dst: string, options: CopyOptions = {}): Promise<void> {
  await runSkopeo([
    "copy",
    "--quiet",
    ...registryFlags(src, options.srcCreds, "src-", options.srcTls),
    ...registryFlags(dst, options.destCreds, "dest-", options.destTls),
    ...(options.all ? ["--multi-arch=all"] : []),
    ...(options.preserveDigests ?? true ? ["--preserve-digests"] : []),
    src,
    dst,
  ], options.blobInfoCache);
}

function inspectArgs(ref: string, options: InspectOptions & { raw: boolean }): string[] {
  return [
    "inspect",
    ...registryFlags(ref, options.creds, "", options.tls),
    ...(options.raw ? ["--raw"] : []),
    ...(options.config ? ["--config"] : []),
    ref,
  ];
}

/**
 * With `raw`, the manifest (or with `config`, the config blob) exactly as stored, so its digest can be
 * recomputed; otherwise skopeo's summary of the image (for an index, of the host platform's image).
 */
export function inspect(ref: string, options: InspectOptions & { raw: true }): Promise<Buffer>;
export function inspect(ref: string, options?: Omit<InspectOptions, "config"> & { raw?: false }): Promise<InspectResult>;
export async function inspect(ref: string, options: InspectOptions & { raw?: boolean } = {}): Promise<Buffer | InspectResult> {
  const output = await runSkopeo(inspectArgs(ref, { ...options, raw: options.raw ?? false }));
  return options.raw ? output : (JSON.parse(output.toString("utf8")) as InspectResult);
}

/** Tags of a repository; `ref` names the repository without a tag, e.g. docker://127.0.0.1:5000/lib/app. */
export async function listTags(ref: string, creds?: Creds): Promise<string[]> {
  const output = await runSkopeo(["list-tags", ...registryFlags(ref, creds, ""), ref]);
  return (JSON.parse(output.toString("utf8")) as { Tags: string[] | null }).Tags ?? [];
}

export async function deleteImage(ref: string, creds?: Creds): Promise<void> {
  await runSkopeo(["delete", ...registryFlags(ref, creds, ""), ref]);
}
