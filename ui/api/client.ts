/**
 * The one way the UI talks to Berth: the same /api/v2.0 every client uses, authenticated by the session cookie
 * (HttpOnly: this code never sees it). Writes carry the session's CSRF token, which the server sends in the
 * X-Harbor-CSRF-Token header of its answers; it is kept in this module's memory only (never in a URL or storage),
 * so a reload gets it again from the first answer.
 */
export const CSRF_HEADER = "X-Harbor-CSRF-Token";

let csrfToken: string | null = null;
let onSessionLost: () => void = () => undefined;

/** Called when the server answers 401 to a request made while signed in: the session expired or was ended. */
export function whenSessionLost(handler: () => void): void {
  onSessionLost = handler;
}

/** An error answer of the API, with Harbor's messages exactly as the server wrote them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const errors = body.errors ?? [];
    if (errors.length > 0) return new ApiError(response.status, errors[0].code ?? "", errors.map((e) => e.message ?? e.code ?? "").join("; "));
  } catch {
    // Not Harbor's JSON (a proxy's page): shown as the status line below.
  }
  return new ApiError(response.status, "", text.trim().slice(0, 300) || `${response.status} ${response.statusText}`);
}

const SAFE = new Set(["GET", "HEAD"]);

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** A 401 is expected here (signing in): do not treat it as a lost session. */
  quiet401?: boolean;
  headers?: Record<string, string>;
}

/** Sends one request; answers below 400 are returned, others thrown as ApiError. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method) && csrfToken) headers[CSRF_HEADER] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const token = response.headers.get(CSRF_HEADER);
  if (token) csrfToken = token;
  if (response.ok) return response;
  if (response.status === 401 && !options.quiet401) onSessionLost();
  throw await errorOf(response);
}

export async function getJson<T>(path: string, headers?: Record<string, string>): Promise<T> {
  return (await (await request(path, { headers })).json()) as T;
}

/** One page of a Harbor list and the total the server counted (X-Total-Count). */
export interface Page<T> {
  items: T[];
  total: number;
}

/** GET a paged Harbor list: `page` counts from 1; the server caps page_size at 100. */
export async function getPage<T>(path: string, page: number, pageSize: number): Promise<Page<T>> {
  const separator = path.includes("?") ? "&" : "?";
  const response = await request(`${path}${separator}page=${page}&page_size=${pageSize}`);
  const items = (await response.json()) as T[];
  const total = Number(response.headers.get("X-Total-Count") ?? items.length);
  return { items, total };
}

export async function send(path: string, method: "POST" | "PUT" | "PATCH" | "DELETE", body?: unknown): Promise<Response> {
  return request(path, { method, body });
}

/** Forgets the token when the session ends (sign-out, expiry). */
export function forgetCsrfToken(): void {
  csrfToken = null;
}
