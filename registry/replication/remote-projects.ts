import type { OutboundGuard } from "../outbound/address-guard";
import { guardedDispatcher } from "../outbound/guarded-dispatcher";
import { RemoteError, remoteText, tlsOptions } from "./remote-registry";

export interface ProjectsEndpoint {
  url: string;
  /** user:password (Basic), as for the registry's /v2. */
  credentials?: string;
  insecure?: boolean;
  /** How errors name the registry, e.g. `harbor-eu (https://…)`. */
  describe: string;
  /** Checks every address connected to (unset for the operator's own `berth migrate`). */
  guard?: OutboundGuard;
}

const TIMEOUT_MS = 15_000;

/**
 * The projects of a Harbor or Berth registry (Harbor's /api/v2.0/projects), for copies into repositories whose
 * first path segment must be an existing project. Plain OCI registries have no such API and need none.
 */
export class RemoteProjects {
  private readonly ensured = new Map<string, Promise<"existed" | "created">>();
  private readonly headers: Record<string, string> = {};

  constructor(private readonly endpoint: ProjectsEndpoint) {
    const { credentials } = endpoint;
    if (credentials) this.headers.Authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }

  /** Whether the registry offers the projects API at all: a plain docker-registry answers 404 on every /api path. */
  async available(): Promise<boolean> {
    const response = await this.send("GET", "/api/v2.0/projects?page=1&page_size=1");
    await response.body?.cancel();
    return response.status !== 404;
  }

  /** Whether `project` exists (Harbor's HEAD /projects?project_name=, which its own clients use). */
  async exists(project: string): Promise<boolean> {
    const response = await this.send("HEAD", `/api/v2.0/projects?project_name=${encodeURIComponent(project)}`);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.failure(`asking whether project ${project} exists`, response);
  }

  /**
   * Creates `project` (private) unless it exists, as Harbor's replication adapter does; each project is looked at
   * once per instance, however many copies into it run at the same time.
   */
  ensure(project: string): Promise<"existed" | "created"> {
    let ensuring = this.ensured.get(project);
    if (!ensuring) {
      ensuring = this.createUnlessPresent(project);
      this.ensured.set(project, ensuring);
    }
    return ensuring;
  }

  private async createUnlessPresent(project: string): Promise<"existed" | "created"> {
    if (await this.exists(project)) return "existed";
    const response = await this.send("POST", "/api/v2.0/projects", JSON.stringify({ project_name: project, metadata: { public: "false" } }));
    // 409: someone created it in between, which is what we want.
    if (response.status === 409) return "existed";
    if (!response.ok) throw await this.failure(`creating project ${project}`, response);
    return "created";
  }

  private async send(method: string, path: string, body?: string): Promise<Response> {
    const headers = body === undefined ? this.headers : { ...this.headers, "Content-Type": "application/json" };
    try {
      return await fetch(`${this.endpoint.url.replace(/\/+$/, "")}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        // The credentials are for this host: a redirect is an answer like any other, not followed.
        redirect: "manual",
        ...(this.endpoint.guard ? { dispatcher: guardedDispatcher(this.endpoint.guard, this.endpoint.insecure ?? false) } : tlsOptions(this.endpoint.insecure ?? false)),
      } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new RemoteError(`${this.endpoint.describe}: ${method} ${path.split("?", 1)[0]} failed: ${cause?.code ?? (error as Error).message}`, null, true);
    }
  }

  private async failure(what: string, response: Response): Promise<RemoteError> {
    const text = remoteText(await response.text().catch(() => ""));
    return new RemoteError(`${this.endpoint.describe}: ${what} answered ${response.status}${text ? `: ${text}` : ""}`, response.status, response.status >= 500 || response.status === 429);
  }
}
