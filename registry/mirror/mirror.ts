import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import type { TokenAccess } from "../auth/token-service";
import { OciError } from "../distribution/errors";
import type { ProjectStore } from "../projects/projects";

/** Marks a request that arrived on the mirror listener (BERTH_MIRROR_ADDR), whatever its Host header says. */
const FROM_MIRROR_LISTENER = Symbol("berth.mirror-listener");

export function markMirrorListenerRequest(raw: IncomingMessage): void {
  (raw as IncomingMessage & { [FROM_MIRROR_LISTENER]?: true })[FROM_MIRROR_LISTENER] = true;
}

// The /v2 paths that name a repository; the greedy name takes the last separator, as the /v2 routes do.
const NAMED_PATH = /^\/v2\/(.+)\/(manifests\/[^/]+|blobs\/uploads\/?[^/]*|blobs\/[^/]+|tags\/list|referrers\/[^/]+)$/;

/** The Host header's host name, lowercased, without the port (`[::1]:5000` → `[::1]`). */
function hostName(host: string | undefined): string | null {
  if (host === undefined) return null;
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host.trim());
  return match ? match[1].toLowerCase().replace(/\.$/, "") : null;
}

function decoded(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * The registry mirror (Docker's and podman's `registry-mirrors`): clients ask for the upstream's own names
 * (`/v2/library/busybox/manifests/1`), and every one of them is a repository of one proxy-cache project
 * (BERTH_MIRROR_PROJECT): `<project>/library/busybox`. A name without a slash gets `library/`, as Docker Hub's do. The
 * mapping is a rewrite of the path before routing, so the pull code, the permission matrix and the proxy cache see
 * an ordinary pull of the proxy project and nothing on the mirror can name another project.
 */
export class Mirror {
  private readonly host: string | null;

  constructor(
    readonly project: string,
    host: string | undefined,
  ) {
    this.host = host ? host.toLowerCase() : null;
  }

  /** Whether a raw request is for the mirror: it came to the mirror listener, or it names the mirror's host. */
  serves(raw: IncomingMessage): boolean {
    if ((raw as IncomingMessage & { [FROM_MIRROR_LISTENER]?: true })[FROM_MIRROR_LISTENER]) return true;
    return this.host !== null && hostName(raw.headers.host) === this.host;
  }

  /** The proxy project's repository for a name a mirror client asked for. */
  repository(name: string): string {
    return `${this.project}/${name.includes("/") ? name : `library/${name}`}`;
  }

  /** The name a mirror client knows a repository of the proxy project by (the inverse of `repository`). */
  clientName(repository: string): string {
    return repository.startsWith(`${this.project}/`) ? repository.slice(this.project.length + 1) : repository;
  }

  /** fastify's rewriteUrl: a mirror request's repository path becomes the proxy project's; other requests are left alone. */
  rewrite(raw: IncomingMessage): string {
    const url = raw.url ?? "/";
    if (!this.serves(raw)) return url;
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const match = NAMED_PATH.exec(path);
    if (!match) return url;
    const name = match[1];
    const mapped = decoded(name).includes("/") ? `${this.project}/${name}` : `${this.project}/library/${name}`;
    return `/v2/${mapped}/${match[2]}${query < 0 ? "" : url.slice(query)}`;
  }

  /**
   * Token scopes a mirror client asked for, in the proxy project's names: the token then grants exactly what the
   * mirrored request needs, and can never name a repository of another project. Other scopes (the catalog) grant nothing.
   */
  scopes(scopes: TokenAccess[]): TokenAccess[] {
    return scopes.map((scope) => (scope.type === "repository" ? { ...scope, name: this.repository(scope.name) } : { ...scope, actions: [] }));
  }

  /** A challenge scope (`repository:<project>/<name>:pull`) in the names the mirror client uses. */
  challengeScope(scope: string): string {
    return scope
      .split(" ")
      .map((one) => one.replace(/^repository:([^:]+):/, (_all, name: string) => `repository:${this.clientName(name)}:`))
      .join(" ");
  }
}

declare module "fastify" {
  interface FastifyRequest {
    /** The registry mirror this request came through, or null (an ordinary request). */
    mirror: Mirror | null;
  }
}

export interface MirrorDeps {
  projects: ProjectStore;
}

/** Sets `request.mirror` first thing (authentication's token realm depends on it). */
export function markMirrorRequests(app: FastifyInstance, mirror: Mirror | null): void {
  app.decorateRequest<Mirror | null>("mirror", null);
  if (mirror) app.addHook("onRequest", async (request: FastifyRequest) => void (request.mirror = mirror.serves(request.raw) ? mirror : null));
}

/**
 * What the mirror serves: GET and HEAD on /v2 (pulls), and the token service its challenges point to; nothing else.
 * Every pull checks that BERTH_MIRROR_PROJECT is a proxy-cache project: a regular project of that name (created
 * after the start, or by mistake) would otherwise answer upstream names with this registry's own images.
 */
export function limitMirrorRequests(app: FastifyInstance, deps: MirrorDeps): void {
  app.addHook("onRequest", async (request: FastifyRequest) => {
    const mirror = request.mirror;
    if (!mirror) return;
    const path = request.url.split("?", 1)[0];
    if (path === "/service/token") return;
    if (path !== "/v2" && !path.startsWith("/v2/")) throw new HarborError("NOT_FOUND", "this is a registry mirror: it serves pulls on /v2 and tokens on /service/token only");
    if (request.method !== "GET" && request.method !== "HEAD") {
      throw new OciError("UNSUPPORTED", `the registry mirror is read-only: ${request.method} is refused (push to the registry itself)`);
    }
    if (path === "/v2" || path === "/v2/") return;
    // The catalog would list every project the caller may see.
    if (path === "/v2/_catalog") throw new OciError("UNSUPPORTED", "the registry mirror does not list repositories");
    const project = await deps.projects.findRefByName(mirror.project);
    if (!project || project.registry_id <= 0) {
      throw new OciError("UNAVAILABLE", `the registry mirror is not available: BERTH_MIRROR_PROJECT ${mirror.project} is not a proxy-cache project`);
    }
  });
}
