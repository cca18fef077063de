/**
 * A small client for the OCI distribution API in the shape the conformance suite talks to a registry: one
 * default repository, admin credentials on every request, and upload session URLs taken from `Location`.
 */
import { ADMIN_AUTH, startBerth, type TestBerth } from "../support/berth";
import { MEDIA, type TestBlob } from "./fixtures";

/** The suite's OCI_NAMESPACE and OCI_CROSSMOUNT_NAMESPACE; the first path segment is Berth's project. */
// Against an external server (BERTH_CONFORMANCE_URL) each run gets fresh repositories, so runs do not collide.
const EXTERNAL_URL = process.env.BERTH_CONFORMANCE_URL || undefined;
/**
 * How the client authenticates: "basic" sends the credentials with every request; "token" does what the suite's
 * client (reggie) does: each request goes out bare, and on a 401 it fetches a token for the challenge's scope with
 * the credentials and sends the request again with it. BERTH_CONFORMANCE_AUTH=token runs every check that way.
 */
export type AuthMode = "basic" | "token";
export const AUTH_MODE: AuthMode = process.env.BERTH_CONFORMANCE_AUTH === "token" ? "token" : "basic";
const RUN_SUFFIX = EXTERNAL_URL ? `-${Date.now().toString(36)}` : "";
export const NAMESPACE = `library/conformance${RUN_SUFFIX}`;
export const CROSSMOUNT_NAMESPACE = `library/crossmount${RUN_SUFFIX}`;

export interface RequestOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface ErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryResponse {
  status: number;
  /** "2xx" for any success, else the status: what the suite's `SatisfyAny(2xx, ...)` assertions compare. */
  outcome: "2xx" | number;
  headers: Headers;
  body: Buffer;
  /** The Location header reduced to path and query (the suite's GetRelativeLocation); "" when absent. */
  location: string;
  json<T>(): T;
  /** The `errors` array of an OCI error body. */
  errors(): ErrorEntry[];
}

/** The error codes the spec defines, as the suite lists them (it also keeps two older ones). */
export const OCI_ERROR_CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_UNVERIFIED",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
];

function relativeLocation(header: string | null, base: string): string {
  if (!header) return "";
  const url = new URL(header, base);
  return `${url.pathname}${url.search}`;
}

/** A challenge's `key="value"` parameters, read the way reggie reads them (one regular expression, no unescaping). */
function challengeParams(header: string): Record<string, string> {
  return Object.fromEntries([...header.matchAll(/([a-zA-Z]+)="(.+?)"/g)].map((match) => [match[1], match[2]]));
}

export class RegistryClient {
  constructor(
    private readonly baseUrl: string,
    /** The repository requests go to unless another is named (the suite's OCI_NAMESPACE). */
    readonly name: string,
    /** Basic credentials: sent with every request ("basic"), or only to the token service ("token"). */
    private readonly authorization: string = ADMIN_AUTH,
    readonly auth: AuthMode = AUTH_MODE,
  ) {}

  /** The same client authenticating the other way. */
  withAuth(auth: AuthMode): RegistryClient {
    return new RegistryClient(this.baseUrl, this.name, this.authorization, auth);
  }

  /** reggie's retryRequestWithAuth: a token for the challenge's service and scope (sent back as one parameter). */
  private async tokenFor(challenge: string | null): Promise<string | null> {
    const params = challengeParams(challenge ?? "");
    if (!params.realm) return null;
    const url = new URL(params.realm);
    url.searchParams.set("service", params.service ?? "");
    url.searchParams.set("scope", params.scope ?? "");
    const response = await fetch(url, { headers: { Authorization: this.authorization, Accept: "application/json" } });
    if (!response.ok) return null;
    const body = (await response.json()) as { token?: string; access_token?: string };
    return body.token || body.access_token || null;
  }

  uploadsPath(name = this.name): string {
    return `/v2/${name}/blobs/uploads/`;
  }

  blobPath(digest: string, name = this.name): string {
    return `/v2/${name}/blobs/${digest}`;
  }

  manifestPath(reference: string, name = this.name): string {
    return `/v2/${name}/manifests/${reference}`;
  }

  tagsPath(name = this.name): string {
    return `/v2/${name}/tags/list`;
  }

  referrersPath(digest: string, name = this.name): string {
    return `/v2/${name}/referrers/${digest}`;
  }

  /** Sends a request to `path` (a path, a Location value or a URL); `query` is merged into its own query. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<RegistryResponse> {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const send = (authorization: string | null) =>
      fetch(url, {
        method,
        headers: { ...(authorization === null ? {} : { Authorization: authorization }), ...options.headers },
        body: options.body === undefined ? undefined : new Uint8Array(options.body),
      });
    let response = await send(this.auth === "basic" ? this.authorization : null);
    if (this.auth === "token" && response.status === 401) {
      const token = await this.tokenFor(response.headers.get("www-authenticate"));
      if (token !== null) response = await send(`Bearer ${token}`);
    }
    const body = Buffer.from(await response.arrayBuffer());
    const status = response.status;
    return {
      status,
      outcome: status >= 200 && status < 300 ? "2xx" : status,
      headers: response.headers,
      body,
      location: relativeLocation(response.headers.get("location"), this.baseUrl),
      json: <T>() => JSON.parse(body.toString("utf8")) as T,
      errors: () => (JSON.parse(body.toString("utf8")) as { errors: ErrorEntry[] }).errors,
    };
  }

  /** Opens an upload session (POST) and returns its response; the session URL is its `location`. */
  startUpload(name = this.name, options: RequestOptions = {}): Promise<RegistryResponse> {
    return this.request("POST", this.uploadsPath(name), options);
  }

  /** Uploads a whole blob the way every setup step of the suite does: POST, then PUT with the bytes and digest. */
  async pushBlob(blob: TestBlob, name = this.name): Promise<RegistryResponse> {
    const session = await this.startUpload(name);
    if (session.status !== 202) throw new Error(`POST ${this.uploadsPath(name)} answered ${session.status}`);
    return this.request("PUT", session.location, {
      query: { digest: blob.digest },
      headers: { "Content-Type": "application/octet-stream" },
      body: blob.content,
    });
  }

  pushManifest(reference: string, manifest: TestBlob, mediaType: string = MEDIA.manifest, name = this.name) {
    return this.request("PUT", this.manifestPath(reference, name), {
      headers: { "Content-Type": mediaType },
      body: manifest.content,
    });
  }

  deleteManifest(reference: string, name = this.name): Promise<RegistryResponse> {
    return this.request("DELETE", this.manifestPath(reference, name));
  }

  deleteBlob(digest: string, name = this.name): Promise<RegistryResponse> {
    return this.request("DELETE", this.blobPath(digest, name));
  }

  /** The tags of the repository, or [] when the body is not a tag list (the suite's getTagList). */
  async tagList(query: Record<string, string> = {}): Promise<{ response: RegistryResponse; tags: string[] }> {
    const response = await this.request("GET", this.tagsPath(), { query });
    try {
      return { response, tags: response.json<{ tags?: string[] }>().tags ?? [] };
    } catch {
      return { response, tags: [] };
    }
  }
}

/**
 * Starts a fresh Berth for the calling test file (beforeAll) and stops it (afterAll). The returned function
 * gives the client of NAMESPACE once the server is up.
 */
export function useBerth(): () => RegistryClient {
  let berth: TestBerth | undefined;
  let client: RegistryClient | undefined;
  beforeAll(async () => {
    if (EXTERNAL_URL) {
      // e.g. against `npm start`: BERTH_CONFORMANCE_URL=http://127.0.0.1:5000 BERTH_CONFORMANCE_CREDS=admin:<password>
      const creds = process.env.BERTH_CONFORMANCE_CREDS ?? "";
      client = new RegistryClient(EXTERNAL_URL.replace(/\/+$/, ""), NAMESPACE, `Basic ${Buffer.from(creds).toString("base64")}`);
      return;
    }
    berth = await startBerth();
    client = new RegistryClient(berth.url, NAMESPACE);
  });
  afterAll(async () => {
    await berth?.close();
  });
  return () => {
    if (!client) throw new Error("Berth is not running (beforeAll failed?)");
    return client;
  };
}
