import { setTimeout as sleep } from "node:timers/promises";
import { Readable } from "node:stream";
import { Agent } from "undici";
import { hostKey, OutboundRefused, type OutboundGuard } from "../outbound/address-guard";
import { guardedDispatcher } from "../outbound/guarded-dispatcher";

/** Every manifest media type a copy must be able to carry. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** A failure talking to a remote registry, saying which registry, what was asked and what it answered. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** Worth retrying: 5xx, 429, timeouts, connection resets. */
    readonly transient: boolean,
  ) {
    super(message);
  }

  /** What may be told to anyone (a client pulling through a proxy cache): the status, never the remote's words. */
  get brief(): string {
    return this.status === null ? "the remote registry could not be reached" : `the remote registry answered ${this.status}`;
  }
}

// Enough of a remote's answer to explain a failure, on one line; the remote chooses these words, so not more.
const REMOTE_TEXT_MAX = 200;

/** A remote's answer body as it goes into an error message: one line, at most 200 characters. */
export function remoteText(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
  return line.length > REMOTE_TEXT_MAX ? `${line.slice(0, REMOTE_TEXT_MAX)}…` : line;
}

// Registries send blob downloads to storage elsewhere (S3, a CDN): a few hops, never a chain without end.
const MAX_REDIRECTS = 5;

export interface RemoteOptions {
  /** user:password, for Basic auth or the token flow. */
  credentials?: string;
  attempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  /** An Authorization header for a request needing `scope`, instead of credentials (this registry's own side). */
  authorize?: (scope: string) => string;
  /** Skip TLS certificate verification (a registry endpoint's `insecure` switch). */
  insecure?: boolean;
  /** Sent with every request (this registry's own side: the change reference its audit log records). */
  headers?: Record<string, string>;
  /** The fetch to use (this registry's own side over TLS: one that trusts the certificate it serves). */
  fetch?: typeof fetch;
  /** Checks every address connected to (endpoint, token realm, redirect targets); unset only for this registry's own side. */
  guard?: OutboundGuard;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
}

/** What an error says, for logs and reports (a thrown non-Error as text). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

// One connection pool for every endpoint that skips certificate checks.
let insecureAgent: Agent | null = null;
const insecureDispatcher = () => (insecureAgent ??= new Agent({ connect: { rejectUnauthorized: false } }));

/** fetch options that skip certificate checks when `insecure` (for calls outside this client, e.g. Harbor's /api). */
export function tlsOptions(insecure: boolean): RequestInit {
  return insecure ? ({ dispatcher: insecureDispatcher() } as RequestInit) : {};
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Record<string, string> | null {
  if (!/^bearer\s/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const match of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
  return params.realm ? params : null;
}

/**
 * A client for another OCI distribution registry (docker-registry, Harbor, Berth): Basic credentials or the
 * token flow, bodies streamed both ways, and retries with backoff on transient failures. Errors name the
 * registry, the request and the answer.
 */
export class RemoteRegistry {
  readonly base: string;
  private readonly tokens = new Map<string, string>();

  constructor(
    url: string,
    private readonly options: RemoteOptions = {},
  ) {
    this.base = url.replace(/\/+$/, "");
  }

  /** GET /v2/: reachable and the credentials are accepted. */
  async ping(): Promise<void> {
    await this.request("GET", "/v2/", "registry:catalog:*");
  }

  async catalog(): Promise<string[]> {
    const names: string[] = [];
    let path: string | null = "/v2/_catalog?n=1000";
    while (path) {
      const response: Response = await this.request("GET", path, "registry:catalog:*");
      names.push(...(((await response.json()) as { repositories?: string[] }).repositories ?? []));
      path = nextLink(response);
    }
    return names;
  }

  async tags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | null = `/v2/${repository}/tags/list?n=1000`;
    while (path) {
      const response: Response = await this.request("GET", path, `repository:${repository}:pull`, { notFound: "empty" });
      if (response.status === 404) return [];
      tags.push(...(((await response.json()) as { tags?: string[] | null }).tags ?? []));
      path = nextLink(response);
    }
    return tags;
  }

  /** The manifest `reference` (tag or digest), or null when the registry does not have it. */
  async manifest(repository: string, reference: string): Promise<FetchedManifest | null> {
    const response = await this.request("GET", `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, {
      headers: { Accept: MANIFEST_ACCEPT },
      notFound: "empty",
    });
    if (response.status === 404) return null;
    const content = Buffer.from(await response.arrayBuffer());
    const digest = response.headers.get("docker-content-digest") ?? (reference.includes(":") ? reference : "");
    return { digest, mediaType: (response.headers.get("content-type") ?? "").split(";")[0], content };
  }

  /** The digest a tag points at, or null. */
  async manifestDigest(repository: string, reference: string): Promise<string | null> {
    const response = await this.request("HEAD", `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, {
      headers: { Accept: MANIFEST_ACCEPT },
      notFound: "empty",
    });
    return response.status === 404 ? null : response.headers.get("docker-content-digest");
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, `repository:${repository}:pull`, { notFound: "empty" });
    return response.status !== 404;
  }

  /** The blob as a stream (never buffered whole). */
  async blob(repository: string, digest: string): Promise<Readable> {
    return (await this.openBlob(repository, digest)).stream;
  }

  /** The blob as a stream with its length when the registry says it. */
  async openBlob(repository: string, digest: string): Promise<{ stream: Readable; size: number | null }> {
    const response = await this.request("GET", `/v2/${repository}/blobs/${digest}`, `repository:${repository}:pull`);
    const length = response.headers.get("content-length");
    return { stream: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), size: length === null ? null : Number(length) };
  }

  /** The blob's size, or null when the registry does not have it. */
  async blobSize(repository: string, digest: string): Promise<number | null> {
    const response = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, `repository:${repository}:pull`, { notFound: "empty" });
    if (response.status === 404) return null;
    const length = response.headers.get("content-length");
    return length === null ? null : Number(length);
  }

  /** Uploads a blob from a stream: one POST, then one streamed PUT with the digest. */
  async pushBlob(repository: string, digest: string, size: number, open: () => Promise<Readable>): Promise<void> {
    await this.retrying(`upload ${digest} to ${repository}`, async () => {
      const started = await this.request("POST", `/v2/${repository}/blobs/uploads/`, `repository:${repository}:pull,push`, { attempts: 1 });
      const location = started.headers.get("location");
      if (!location) throw new RemoteError(`${this.base}: POST /v2/${repository}/blobs/uploads/ answered without a Location`, started.status, false);
      const url = new URL(location, `${this.base}/`);
      url.searchParams.set("digest", digest);
      const body = await open();
      await this.request("PUT", url.toString(), `repository:${repository}:pull,push`, {
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(size) },
        body,
        attempts: 1,
      });
    });
  }

  /** Asks the registry to link a blob it holds in `from` into `repository`; false when it would not. */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const response = await this.request("POST", `/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`, `repository:${repository}:pull,push repository:${from}:pull`);
    return response.status === 201;
  }

  async putManifest(repository: string, reference: string, manifest: FetchedManifest): Promise<void> {
    await this.request("PUT", `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull,push`, {
      headers: { "Content-Type": manifest.mediaType },
      body: manifest.content,
    });
  }

  /** Deletes a manifest by digest, or by tag where the registry supports it (OCI 1.1); false when it was not there. */
  async deleteManifest(repository: string, reference: string): Promise<boolean> {
    const response = await this.request("DELETE", `/v2/${repository}/manifests/${reference}`, `repository:${repository}:delete`, { notFound: "empty" });
    return response.status !== 404;
  }

  /** Referrers of `digest` (OCI 1.1 referrers API); empty when the registry does not offer it. */
  async referrers(repository: string, digest: string): Promise<{ digest: string; mediaType: string }[]> {
    const response = await this.request("GET", `/v2/${repository}/referrers/${digest}`, `repository:${repository}:pull`, { notFound: "empty" });
    if (response.status === 404) return [];
    const index = (await response.json().catch(() => ({}))) as { manifests?: { digest: string; mediaType: string }[] };
    return index.manifests ?? [];
  }

  private async retrying<T>(what: string, run: () => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof RemoteError) || !error.transient || attempt >= attempts) throw error;
        await sleep((this.options.retryBaseMs ?? 500) * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * One request with auth (Basic, or a bearer token fetched on the first 401) and retries of transient failures.
   * A 404 is an error unless `notFound: "empty"`, then the response is returned for the caller to read.
   */
  private request(
    method: string,
    path: string,
    scope: string,
    options: { headers?: Record<string, string>; body?: Buffer | Readable; notFound?: "error" | "empty"; attempts?: number } = {},
  ): Promise<Response> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const run = async () => {
      let response = await this.send(method, url, scope, options);
      if (response.status === 401) {
        const challenge = parseChallenge(response.headers.get("www-authenticate") ?? "");
        if (challenge && !(options.body instanceof Readable)) {
          await this.fetchToken(challenge, scope);
          response = await this.send(method, url, scope, options);
        }
      }
      if (response.ok || (response.status === 404 && options.notFound === "empty")) return response;
      const text = remoteText(await response.text().catch(() => ""));
      throw new RemoteError(`${this.base}: ${method} ${new URL(url).pathname} answered ${response.status}${text ? `: ${text}` : ""}`, response.status, isTransientStatus(response.status));
    };
    if (options.attempts === 1) return run();
    return this.retrying(`${method} ${path}`, run);
  }

  private async send(method: string, url: string, scope: string, options: { headers?: Record<string, string>; body?: Buffer | Readable }): Promise<Response> {
    const headers: Record<string, string> = { ...this.options.headers, ...options.headers };
    const token = this.tokens.get(scope);
    if (this.options.authorize) headers.Authorization = this.options.authorize(scope);
    else if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.options.credentials) headers.Authorization = `Basic ${Buffer.from(this.options.credentials).toString("base64")}`;
    let current = url;
    for (let hop = 0; ; hop++) {
      const response = await this.fetchOnce(method, current, headers, options.body);
      const location = response.headers.get("location");
      // Only reads follow redirects (an upload's body cannot be sent twice); 201/202 Locations are not redirects.
      if (![301, 302, 303, 307, 308].includes(response.status) || !location || (method !== "GET" && method !== "HEAD") || hop >= MAX_REDIRECTS) return response;
      await response.body?.cancel();
      const next = new URL(location, current);
      // Credentials stay with the host they are for: a redirect elsewhere (blob storage) goes without them.
      if (hostKey(next) !== hostKey(new URL(current)) || next.protocol !== new URL(current).protocol) delete headers.Authorization;
      current = next.toString();
    }
  }

  private async fetchOnce(method: string, url: string, headers: Record<string, string>, body: Buffer | Readable | undefined): Promise<Response> {
    await this.checkTarget(`${method} ${new URL(url).pathname}`, url);
    try {
      return await (this.options.fetch ?? fetch)(url, {
        method,
        headers,
        body: body as unknown as RequestInit["body"],
        redirect: "manual",
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 300_000),
        ...(body instanceof Readable ? { duplex: "half" } : {}),
        ...this.dispatcher(),
      } as RequestInit);
    } catch (error) {
      throw this.fetchFailure(`${method} ${new URL(url).pathname}`, error);
    }
  }

  /** The connection pool to use: the guard's (which checks each address) or, for this registry's own side, none. */
  private dispatcher(): RequestInit {
    const insecure = this.options.insecure ?? false;
    return this.options.guard ? ({ dispatcher: guardedDispatcher(this.options.guard, insecure) } as RequestInit) : tlsOptions(insecure);
  }

  /**
   * Refuses a target the guard refuses before anything is sent, with an error that says so. The guarded connector
   * checks again when it opens a connection (the address connected to is the one it checked).
   */
  private async checkTarget(what: string, url: string | URL): Promise<void> {
    if (!this.options.guard) return;
    try {
      await this.options.guard.check(url);
    } catch (error) {
      if (error instanceof OutboundRefused) throw new RemoteError(`${this.base}: ${what} refused: ${error.message}`, null, false);
      // A name that does not resolve: the fetch fails on it and says so, as before.
    }
  }

  private fetchFailure(what: string, error: unknown): RemoteError {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause instanceof OutboundRefused) return new RemoteError(`${this.base}: ${what} refused: ${cause.message}`, null, false);
    const transient = (error as Error).name === "TimeoutError" || TRANSIENT_CODES.has(cause?.code ?? "");
    return new RemoteError(`${this.base}: ${what} failed: ${cause?.code ?? (error as Error).message}`, null, transient);
  }

  /**
   * Fetches a bearer token from the realm the registry named. The stored credentials go there only when the realm
   * is on the endpoint's own host (same name and port) or is https: a registry's 401 must not be able to send them
   * in clear text to any host it likes. Elsewhere the token is asked for anonymously (enough for public pulls).
   */
  private async fetchToken(challenge: Record<string, string>, scope: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(challenge.realm);
    } catch {
      throw new RemoteError(`${this.base}: the token realm ${JSON.stringify(remoteText(challenge.realm))} is not a URL`, null, false);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new RemoteError(`${this.base}: the token realm must be http or https, got ${url.protocol}`, null, false);
    if (challenge.service) url.searchParams.set("service", challenge.service);
    for (const part of scope.split(" ")) url.searchParams.append("scope", part);
    const headers: Record<string, string> = {};
    if (this.options.credentials && credentialsMayGoTo(url, new URL(this.base))) {
      headers.Authorization = `Basic ${Buffer.from(this.options.credentials).toString("base64")}`;
    }
    await this.checkTarget(`the token service ${url.origin}${url.pathname}`, url);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, { headers, redirect: "manual", signal: AbortSignal.timeout(30_000), ...this.dispatcher() });
    } catch (error) {
      throw this.fetchFailure(`the token service ${url.origin}${url.pathname}`, error);
    }
    if (!response.ok) throw new RemoteError(`${this.base}: the token service ${url.origin}${url.pathname} answered ${response.status}`, response.status, isTransientStatus(response.status));
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token || body.access_token;
    if (!token) throw new RemoteError(`${this.base}: the token service returned no token`, response.status, false);
    this.tokens.set(scope, token);
  }
}

/** Whether an endpoint's credentials may be sent to `realm`: the endpoint's own host (name and port), or any https. */
export function credentialsMayGoTo(realm: URL, endpoint: URL): boolean {
  return realm.protocol === "https:" || (hostKey(realm) === hostKey(endpoint) && realm.protocol === endpoint.protocol);
}

/** The next page from an RFC 5988 Link header, as a path. */
function nextLink(response: Response): string | null {
  const match = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "");
  return match ? match[1] : null;
}
