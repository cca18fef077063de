import { OCI_ERROR_CODES } from "../../conformance/client";
import { rawRequest, type RawRequest, type RawResponse } from "../../support/raw-http";

/**
 * The fuzz suite's one way to talk to the server: every request goes through `send`, which counts it, records its
 * status, and checks what any answer must satisfy whatever the request was (`checkAnswer`). The properties add
 * their own model checks on top.
 */

/**
 * The spec's error codes (as the conformance suite lists them, two older ones included), plus the extensions Berth
 * documents: TOOMANYREQUESTS (the spec's 429), distribution's RANGE_INVALID for an unsatisfiable Range/Content-Range,
 * and Harbor's PRECONDITION for an immutable tag.
 */
const OCI_CODES = new Set([...OCI_ERROR_CODES, "TOOMANYREQUESTS", "RANGE_INVALID", "PRECONDITION"]);

/** Harbor's error codes and their statuses (src/lib/errors, src/lib/http/error.go), written out here on purpose. */
const HARBOR_CODES: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION: 412,
  REQUEST_ENTITY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_ENTITY: 422,
  TOO_MANY_REQUEST: 429,
};

export class FuzzStats {
  requests = 0;
  readonly statuses = new Map<number, number>();
  readonly started = Date.now();

  record(status: number): void {
    this.requests += 1;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  statusLine(): string {
    return [...this.statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(" ");
  }
}

/** A request as the failure message shows it: enough to send it again by hand. */
export function describeRequest(request: RawRequest): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `${name}: ${name.toLowerCase() === "authorization" ? String(value).split(" ")[0] + " …" : String(value).slice(0, 200)}`)
    .join("; ");
  const body = request.body === undefined ? "" : ` body(${Buffer.byteLength(request.body)} B)=${Buffer.from(request.body).subarray(0, 300).toString("utf8")}`;
  return `${request.method} ${request.path.slice(0, 500)}${request.chunked ? " [chunked]" : ""} [${headers}]${body}`;
}

export class AnswerError extends Error {}

function fail(request: RawRequest, response: RawResponse | null, why: string): never {
  const answer = response === null ? "" : `\n  answer: ${response.status} ${response.body.subarray(0, 500).toString("utf8")}`;
  throw new AnswerError(`${why}\n  request: ${describeRequest(request)}${answer}`);
}

function parsedBody(request: RawRequest, response: RawResponse): unknown {
  try {
    return response.json();
  } catch {
    return fail(request, response, "the error body is not JSON");
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{"errors":[{code, message, detail?}]}` with spec codes. */
function checkOciError(request: RawRequest, response: RawResponse): void {
  if (response.status === 401 && !response.headers["www-authenticate"]) fail(request, response, "a /v2 401 without WWW-Authenticate");
  if (request.method === "HEAD") return; // a HEAD answer has no body to carry the code
  const body = parsedBody(request, response);
  const errors = isObject(body) ? body.errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) fail(request, response, "a /v2 error body without an errors list");
  for (const entry of errors) {
    if (!isObject(entry) || typeof entry.message !== "string" || !OCI_CODES.has(String(entry.code))) {
      fail(request, response, "a /v2 error entry that is not {code: <spec code>, message: string}");
    }
    const extra = Object.keys(entry).filter((key) => !["code", "message", "detail"].includes(key));
    if (extra.length) fail(request, response, `a /v2 error entry with fields outside the spec: ${extra.join(", ")}`);
  }
}

/** Harbor's exact `{"errors":[{"code","message"}]}`, the code agreeing with the status. */
function checkHarborError(request: RawRequest, response: RawResponse): void {
  if (request.method === "HEAD") return;
  const body = parsedBody(request, response);
  const errors = isObject(body) && Object.keys(body).length === 1 ? body.errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) fail(request, response, "an /api error body that is not {errors: [...]}");
  for (const entry of errors) {
    const ok = isObject(entry) && Object.keys(entry).sort().join() === "code,message" && typeof entry.message === "string";
    if (!ok) fail(request, response, "an /api error entry that is not exactly {code, message}");
    const status = HARBOR_CODES[String(entry.code)];
    if (status === undefined) fail(request, response, `an /api error code Harbor does not have: ${String(entry.code)}`);
    // BAD_REQUEST is Harbor's code for any 4xx it has no name for; every other code has one status.
    if (status !== response.status && !(entry.code === "BAD_REQUEST" && response.status >= 400 && response.status < 500)) {
      fail(request, response, `code ${String(entry.code)} with status ${response.status}`);
    }
  }
}

/** What every answer must satisfy: an answer at all, no 5xx, and a 4xx in its API's error body. */
export function checkAnswer(request: RawRequest, response: RawResponse): void {
  if (response.status >= 500) fail(request, response, `a ${response.status} for a client's request`);
  if (response.status < 400) return;
  if (request.path === "/v2" || request.path.startsWith("/v2/") || request.path.startsWith("/v2?")) checkOciError(request, response);
  else checkHarborError(request, response);
}

export class FuzzClient {
  readonly stats = new FuzzStats();

  constructor(private readonly baseUrl: string) {}

  /** Sends, counts and checks one request; a dropped connection without an answer is a failure too. */
  async send(request: RawRequest): Promise<RawResponse> {
    let response: RawResponse;
    try {
      response = await rawRequest(this.baseUrl, request);
    } catch (error) {
      return fail(request, null, `no answer: ${(error as Error).message}`);
    }
    this.stats.record(response.status);
    checkAnswer(request, response);
    return response;
  }

  /** Fails with the request when `ok` is false: a model check on top of the general one. */
  expect(ok: boolean, request: RawRequest, response: RawResponse, why: string): void {
    if (!ok) fail(request, response, why);
  }
}

/** How a run is sized and seeded: FUZZ_RUNS (requests in all) and FUZZ_SEED, both printed so a run can be repeated. */
export interface FuzzSettings {
  seed: number;
  requests: number;
}

export const DEFAULT_SEED = 1515;
/** What `npm test` sends: enough to touch every generator, under half a minute. */
export const DEFAULT_REQUESTS = 800;

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  if (!/^-?\d+$/.test(value)) throw new Error(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  return { seed: wholeNumber("FUZZ_SEED", env.FUZZ_SEED, DEFAULT_SEED), requests: wholeNumber("FUZZ_RUNS", env.FUZZ_RUNS, DEFAULT_REQUESTS) };
}

/** The command that repeats a run, for failure messages. */
export function reproduceCommand(settings: FuzzSettings): string {
  return `FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.requests} npm run fuzz`;
}
