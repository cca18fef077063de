import { setTimeout as sleep } from "node:timers/promises";

/**
 * A failed call to the registry's API. `transient` failures (5xx, 429, timeouts, refused or reset connections) are
 * worth retrying and never mean "gone"; a 4xx is the registry's final answer.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  url: string;
  username: string;
  password: string;
  /** An Authorization header to send instead of Basic credentials (the embedded controller's internal one). */
  authorization?: string;
  /** Sent as X-Berth-Change-Ref with every write, so the registry's audit log names the commit behind it. */
  changeRef?: string;
  attempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  /** How many requests may be in flight at once (reads of many projects run in parallel up to this). */
  concurrency?: number;
  /** The fetch to use (the embedded controller over TLS: one that trusts the certificate its registry serves). */
  fetch?: typeof fetch;
}

const PAGE_SIZE = 100;

/** The registry's /api/v2.0 over HTTP with Basic auth: the only way the controller touches the registry. */
export class ApiClient {
  private readonly base: string;
  private readonly authorization: string;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Writes made (for the run's report). */
  writes = 0;

  constructor(private readonly options: ApiClientOptions) {
    this.base = `${options.url.replace(/\/+$/, "")}/api/v2.0`;
    this.authorization = options.authorization ?? `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
  }

  withChangeRef(changeRef: string): ApiClient {
    return new ApiClient({ ...this.options, changeRef });
  }

  /** The same registry, each request tried at most `attempts` times (a preview that must not hold a plan up). */
  withAttempts(attempts: number): ApiClient {
    return new ApiClient({ ...this.options, attempts });
  }

  /** GET a JSON document; null on 404 (only a 404 means the object does not exist). */
  async get<T>(path: string): Promise<T | null> {
    const response = await this.request("GET", path, undefined, true);
    return response.status === 404 ? null : ((await response.json()) as T);
  }

  /**
   * Every item of a paged list: the first page says how many there are, the rest are fetched at once. `pageSize`
   * above Harbor's 100 only for Berth's own listings that take it.
   */
  async list<T>(path: string, pageSize = PAGE_SIZE): Promise<T[]> {
    const separator = path.includes("?") ? "&" : "?";
    const page = async (n: number) => {
      const response = await this.request("GET", `${path}${separator}page=${n}&page_size=${pageSize}`);
      return { items: (await response.json()) as T[], total: response.headers.get("x-total-count") };
    };
    const first = await page(1);
    if (first.total === null) {
      // No count: walk the pages one by one until a short one.
      const items = [...first.items];
      for (let n = 2, last = first.items; last.length === pageSize; n++) items.push(...(last = (await page(n)).items));
      return items;
    }
    const pages = Math.ceil(Number(first.total) / pageSize);
    const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) }, (_, i) => page(i + 2)));
    return [first.items, ...rest.map((r) => r.items)].flat();
  }

  /** POST; returns the id at the end of the Location header when there is one, and the body. */
  async post<T = unknown>(path: string, body: unknown): Promise<{ id: number | null; body: T | null }> {
    const response = await this.request("POST", path, body);
    const location = response.headers.get("location");
    const text = await response.text();
    const id = location ? Number(location.split("/").pop()) : null;
    return { id: Number.isInteger(id) ? id : null, body: text ? (JSON.parse(text) as T) : null };
  }

  async put(path: string, body: unknown): Promise<void> {
    await (await this.request("PUT", path, body)).arrayBuffer();
  }

  async patch(path: string, body: unknown): Promise<void> {
    await (await this.request("PATCH", path, body)).arrayBuffer();
  }

  async delete(path: string): Promise<void> {
    await (await this.request("DELETE", path)).arrayBuffer();
  }

  private async request(method: string, path: string, body?: unknown, notFoundIsAnswer = false): Promise<Response> {
    const attempts = this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, path, body, notFoundIsAnswer);
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || attempt >= attempts) throw error;
        // Exponential backoff with jitter, so several controllers retrying do not stay in step.
        const delay = (this.options.retryBaseMs ?? 500) * 2 ** (attempt - 1);
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  private async once(method: string, path: string, body: unknown, notFoundIsAnswer: boolean): Promise<Response> {
    const headers: Record<string, string> = { Authorization: this.authorization, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && this.options.changeRef) headers["X-Berth-Change-Ref"] = this.options.changeRef.replace(/[^\x20-\x7e]/g, "?");
    let response: Response;
    await this.slot();
    try {
      response = await (this.options.fetch ?? fetch)(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new ApiError(`${method} ${path}: the registry did not answer (${cause})`, null, true);
    } finally {
      this.release();
    }
    if (method !== "GET") this.writes += 1;
    if (response.ok || (notFoundIsAnswer && response.status === 404)) return response;
    const text = await response.text().catch(() => "");
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { errors: { message: string }[] }).errors.map((e) => e.message).join("; ");
    } catch {
      // not Harbor's error body: keep the text
    }
    throw new ApiError(`${method} ${path} answered ${response.status}${message ? `: ${message}` : ""}`, response.status, response.status >= 500 || response.status === 429);
  }

  private async slot(): Promise<void> {
    if (this.active < (this.options.concurrency ?? 16)) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
