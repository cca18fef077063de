import { createHash } from "node:crypto";
import { ADMIN_AUTH } from "./berth";
import { buildLayer } from "./oci-image";
import { seededBytes, sha256Of } from "./seeded-bytes";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export interface PushedImage {
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layerDigest: string;
}

/**
 * The few /v2 and /api calls the fault tests build on, over fetch, as admin unless told otherwise. Each call
 * that sets up a precondition asserts its own status, so a broken setup fails where it happens.
 */
export class RegistryClient {
  constructor(
    readonly baseUrl: string,
    private readonly authorization: string | null = ADMIN_AUTH,
    /** Options every request carries, e.g. a `dispatcher` that trusts a test CA for an https Berth. */
    private readonly defaults: RequestInit = {},
  ) {}

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.authorization !== null) headers.set("Authorization", this.authorization);
    return fetch(new URL(path, this.baseUrl), { ...this.defaults, ...init, headers });
  }

  /** Opens an upload session and returns its Location. */
  async startUpload(repository: string): Promise<string> {
    const response = await this.fetch(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
    await expectStatus(response, 202);
    return response.headers.get("location")!;
  }

  /** The session's `Range` header as GET status reports it (`0-<last byte>`). */
  async uploadRange(location: string): Promise<string> {
    const response = await this.fetch(location);
    await expectStatus(response, 204);
    return response.headers.get("range")!;
  }

  /**
   * Bytes in the session according to its Range. The protocol says `0-0` for both 0 and 1 bytes, so this is
   * exact only from 2 bytes on; the tests never stop at a single byte.
   */
  async uploadedSize(location: string): Promise<number> {
    const end = Number(/^0-(\d+)$/.exec(await this.uploadRange(location))![1]);
    return end === 0 ? 0 : end + 1;
  }

  patchChunk(location: string, chunk: Buffer, start: number): Promise<Response> {
    return this.fetch(location, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${start + chunk.length - 1}` },
      body: chunk,
    });
  }

  finishUpload(location: string, digest: string, lastChunk?: Buffer): Promise<Response> {
    const url = new URL(location, this.baseUrl);
    url.searchParams.set("digest", digest);
    return this.fetch(url.toString(), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: lastChunk,
    });
  }

  /**
   * Pushes a blob in one POST and returns its digest. A registry that does not take monolithic POSTs
   * (distribution 2.8 answers 202 and opens a session) gets the bytes in a PUT to the session instead.
   */
  async pushBlob(repository: string, content: Buffer): Promise<string> {
    const digest = sha256Of(content);
    const response = await this.fetch(`/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: content,
    });
    if (response.status === 202) {
      await expectStatus(await this.finishUpload(response.headers.get("location")!, digest, content), 201);
      return digest;
    }
    await expectStatus(response, 201);
    return digest;
  }

  async blobStatus(repository: string, digest: string): Promise<number> {
    return (await this.fetch(`/v2/${repository}/blobs/${digest}`, { method: "HEAD" })).status;
  }

  /** Downloads a blob and returns the digest of what arrived (streamed, never buffered whole). */
  async pulledDigest(repository: string, digest: string): Promise<string> {
    const response = await this.fetch(`/v2/${repository}/blobs/${digest}`);
    await expectStatus(response, 200);
    const hash = createHash("sha256");
    for await (const chunk of response.body!) hash.update(chunk);
    return `sha256:${hash.digest("hex")}`;
  }

  /** Pushes a one-layer OCI image (content derived from `seed`, more config fields in `configFields`) and tags it. */
  async pushImage(repository: string, tag: string, seed = repository, layerSize = 1024, configFields: Record<string, unknown> = {}): Promise<PushedImage> {
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed, ...configFields }));
    const layer = seededBytes(`${seed}/layer`, layerSize);
    const configDigest = await this.pushBlob(repository, config);
    const layerDigest = await this.pushBlob(repository, layer);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layer.length }],
    });
    const response = await this.fetch(`/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: manifest,
    });
    await expectStatus(response, 201);
    return { manifestDigest: sha256Of(manifest), manifestSize: Buffer.byteLength(manifest), configDigest, layerDigest };
  }

  /** Pushes a one-layer image whose layer is a real tar (podman unpacks what it pulls); returns the manifest digest. */
  async pushUnpackableImage(repository: string, tag: string): Promise<string> {
    const layer = await buildLayer({ "hello.txt": `${repository}:${tag}` });
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.diffId] } }));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await this.pushBlob(repository, config), size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: await this.pushBlob(repository, layer.bytes), size: layer.size }],
    });
    const response = await this.fetch(`/v2/${repository}/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
    await expectStatus(response, 201);
    return response.headers.get("docker-content-digest")!;
  }

  /** Pushes an OCI index over `images` (one platform each, amd64 then arm64…) under `tag`; returns its JSON. */
  async pushIndex(repository: string, tag: string, images: PushedImage[]): Promise<string> {
    const architectures = ["amd64", "arm64", "s390x", "ppc64le"];
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: images.map((image, i) => ({ mediaType: OCI_MANIFEST, digest: image.manifestDigest, size: image.manifestSize, platform: { os: "linux", architecture: architectures[i] } })),
    });
    const response = await this.fetch(`/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    await expectStatus(response, 201);
    return index;
  }

  /** Pushes an artifact (a signature, an SBOM) whose subject is `subject`, untagged; returns its digest. */
  async pushReferrer(repository: string, subject: PushedImage, artifactType: string, content: string): Promise<string> {
    const config = await this.pushBlob(repository, Buffer.from("{}"));
    const layer = await this.pushBlob(repository, Buffer.from(content));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
      layers: [{ mediaType: "application/octet-stream", digest: layer, size: Buffer.byteLength(content) }],
      subject: { mediaType: OCI_MANIFEST, digest: subject.manifestDigest, size: subject.manifestSize },
    });
    const digest = sha256Of(manifest);
    const response = await this.fetch(`/v2/${repository}/manifests/${digest}`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
    await expectStatus(response, 201);
    return digest;
  }

  /** The digest `repository:reference` has here, or null. */
  async digestOf(repository: string, reference: string): Promise<string | null> {
    const accept = [OCI_MANIFEST, "application/vnd.oci.image.index.v1+json"].join(", ");
    const response = await this.fetch(`/v2/${repository}/manifests/${reference}`, { method: "HEAD", headers: { Accept: accept } });
    return response.status === 200 ? response.headers.get("docker-content-digest") : null;
  }

  /** Upload requests the server is still streaming into storage (its `berth_uploads_in_progress` gauge, from `metricsUrl`). */
  async uploadsInProgress(metricsUrl: string): Promise<number> {
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    return Number(/^berth_uploads_in_progress (\d+)$/m.exec(metrics)![1]);
  }

  async createProject(name: string, options: { public: boolean }): Promise<void> {
    const response = await this.fetch("/api/v2.0/projects", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ project_name: name, metadata: { public: String(options.public) } }),
    });
    await expectStatus(response, 201);
  }

  /** Creates a user through the users API and returns its id. */
  async createUser(username: string, password: string): Promise<number> {
    const response = await this.fetch("/api/v2.0/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, email: `${username}@example.com`, realname: username }),
    });
    await expectStatus(response, 201);
    return Number(response.headers.get("location")!.split("/").pop());
  }

  /** Adds a user to a project with a role id (1 projectAdmin … 5 limitedGuest), in Harbor's short form. */
  async addMember(project: string, username: string, roleId: number): Promise<void> {
    const response = await this.fetch(`/api/v2.0/projects/${project}/members`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ role_id: roleId, username }),
    });
    await expectStatus(response, 201);
  }

  /** POST /robots with Harbor's RobotCreate `body`; returns what the server tells only once: id, name, secret. */
  async createRobot(body: Record<string, unknown>): Promise<CreatedRobot> {
    const response = await this.fetch("/api/v2.0/robots", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    await expectStatus(response, 201);
    return (await response.json()) as CreatedRobot;
  }
}

export interface CreatedRobot {
  id: number;
  name: string;
  secret: string;
  expires_at: number;
}

/** Basic credentials for `user:password`. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** Fails with the response body in the message, which is what one needs to see when a setup step breaks. */
async function expectStatus(response: Response, status: number): Promise<void> {
  if (response.status !== status) {
    throw new Error(`${response.url}: expected ${status}, got ${response.status}: ${await response.text()}`);
  }
}
