import fc from "fast-check";
import { anyJson, deepNesting, deepValue, encodeAny, mutate, textUnit, type Mutation } from "./distribution-arbitraries";

/**
 * Generators for /api requests: list endpoints with Harbor's `q=`, `sort=` and paging, and the JSON bodies of the
 * create and update endpoints (valid templates with fields mutated, random shapes, deep nesting, not JSON at all).
 */

/** List endpoints and the keys their `q=` and `sort=` know (unknown keys are generated too). */
export const LIST_ENDPOINTS = (project: string): { path: string; keys: string[] }[] => [
  { path: "/api/v2.0/projects", keys: ["name", "public", "owner_id", "project_id", "creation_time", "update_time", "registry_id"] },
  { path: "/api/v2.0/audit-logs", keys: ["operation", "resource", "resource_type", "username", "op_time"] },
  { path: `/api/v2.0/projects/${project}/logs`, keys: ["operation", "resource", "resource_type", "username", "op_time"] },
  { path: "/api/v2.0/users", keys: ["username", "email"] },
  { path: "/api/v2.0/users/search", keys: ["username"] },
  { path: "/api/v2.0/robots", keys: ["Level", "level", "ProjectID", "project_id", "name"] },
  { path: "/api/v2.0/registries", keys: ["name"] },
  { path: "/api/v2.0/replication/policies", keys: ["name"] },
  { path: "/api/v2.0/replication/executions", keys: ["policy_id", "status", "trigger"] },
  { path: "/api/v2.0/quotas", keys: ["hard.storage", "used.storage", "creation_time", "update_time"] },
  { path: `/api/v2.0/projects/${project}/repositories`, keys: ["name", "creation_time", "update_time", "pull_count"] },
  { path: `/api/v2.0/projects/${project}/repositories/app/artifacts`, keys: ["tags", "digest", "type", "push_time", "pull_time", "media_type"] },
  { path: `/api/v2.0/projects/${project}/members`, keys: ["entityname", "entity_name"] },
  { path: `/api/v2.0/projects/${project}/webhook/policies`, keys: ["name"] },
  { path: `/api/v2.0/projects/${project}/immutabletagrules`, keys: ["id"] },
  { path: "/api/v2.0/system/gc", keys: ["status", "job_kind"] },
];

const word = fc.oneof(
  fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
  fc.string({ unit: textUnit, maxLength: 10 }),
  fc.constantFrom("", " ", "'", '"', "\\", "%", "_", "*", "\0", "~", ",", "=", "[", "]", "{", "}", "(", ")", "2026-01-31T12:00:00", "2026-02-31", "-1", "99999999999999999999", "1e9", "true"),
);

/** One `q=` term in any of Harbor's forms, over a known or unknown key. */
const queryTerm = (keys: string[]) =>
  fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: word }),
      fc.oneof(
        word.map((v) => `=${v}`),
        word.map((v) => `=~${v}`),
        word.map((v) => `=\\${v}`),
        fc.tuple(word, word).map(([a, b]) => `=[${a}~${b}]`),
        fc.tuple(word, word, word).map(([a, b, c]) => `=[${a}~${b}~${c}]`),
        fc.array(word, { maxLength: 5 }).map((vs) => `={${vs.join(" ")}}`),
        fc.array(word, { maxLength: 5 }).map((vs) => `=(${vs.join(" ")})`),
        fc.constantFrom("", "=", "=[", "={", "=(a b", "=[~]", "=[2026-01-01~]", "=[~2026-01-01T00:00:00Z]", "=[1~2]"),
      ),
    )
    .map(([key, rest]) => `${key}${rest}`);

const sortValue = (keys: string[]) =>
  fc.array(
    fc.tuple(fc.constantFrom("", "-", "+", "--"), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: word })).map(([sign, key]) => sign + key),
    { minLength: 1, maxLength: 4 },
  ).map((terms) => terms.join(","));

const pageValue = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map(String),
  fc.integer({ min: -5, max: 0 }).map(String),
  fc.constantFrom("", "1.5", "1e3", "0x10", "abc", " 1", "01", "2147483648", "99999999999999999999", "100", "101", "-0", "NaN", "Infinity"),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
);

/** How a query value is written into the URL: encoded as a client library would, or raw as a hand would type it. */
const encoded = (value: string) =>
  fc.constantFrom("encoded", "raw").map((how) => (how === "encoded" ? encodeAny(value) : value.replace(/[^\u0021-\u00ff]|[#&]/gu, encodeAny)));

/** A list request: path and a query string built from `q`, `sort`, `page`, `page_size` (each maybe repeated). */
export const listRequest = (project: string) =>
  fc.constantFrom(...LIST_ENDPOINTS(project)).chain(({ path, keys }) =>
    fc
      .tuple(
        fc.option(fc.array(queryTerm(keys), { minLength: 1, maxLength: 4 }).map((terms) => terms.join(",")), { nil: undefined }),
        fc.option(sortValue(keys), { nil: undefined }),
        fc.option(pageValue, { nil: undefined }),
        fc.option(pageValue, { nil: undefined }),
        fc.option(fc.constantFrom("q", "sort", "page", "page_size", "username", "name"), { nil: undefined }),
      )
      .chain(([q, sort, page, pageSize, repeated]) => {
        const pairs: [string, string][] = [];
        if (q !== undefined) pairs.push(["q", q]);
        if (sort !== undefined) pairs.push(["sort", sort]);
        if (page !== undefined) pairs.push(["page", page]);
        if (pageSize !== undefined) pairs.push(["page_size", pageSize]);
        if (repeated !== undefined) pairs.push([repeated, "x"], [repeated, "y"]);
        if (path.endsWith("/users/search")) pairs.push(["username", "a"]);
        return fc.tuple(...pairs.map(([key, value]) => encoded(value).map((v) => `${key}=${v}`))).map((parts) => ({
          path: parts.length ? `${path}?${parts.join("&")}` : path,
        }));
      }),
  );

/** Addresses a generated body may carry: all on this machine, closed or malformed, so nothing leaves it. */
const LOCAL_URLS = ["http://127.0.0.1:1", "https://127.0.0.1:1/x", "http://[::1]:1", "127.0.0.1:1", "ftp://127.0.0.1/", "http://user:pw@127.0.0.1:1", "not a url", "http://", ""];
export const localUrl = fc.constantFrom(...LOCAL_URLS);

/** Replaces any string in `value` that a client could resolve off this machine (none is generated, but be sure). */
export function keepLocal(value: unknown): unknown {
  if (typeof value === "string") {
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      return value; // nothing a client could fetch
    }
    const local = ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
    return local || !["http:", "https:", "ws:", "wss:"].includes(url.protocol) ? value : "http://127.0.0.1:1";
  }
  if (Array.isArray(value)) return value.map(keepLocal);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keepLocal(v)]));
  return value;
}

export interface BodyEndpoint {
  method: "POST" | "PUT";
  path: string;
  template: Record<string, unknown>;
}

/** The create/update endpoints fuzzed, each with a body Harbor would accept. */
export function bodyEndpoints(project: { name: string; id: number }, username: string): BodyEndpoint[] {
  const selector = (decoration: string) => [{ kind: "doublestar", decoration, pattern: "**" }];
  const retention = {
    algorithm: "or",
    scope: { level: "project", ref: project.id },
    trigger: { kind: "Schedule", settings: { cron: "" } },
    rules: [{ template: "latestPushedK", params: { latestPushedK: 3 }, tag_selectors: selector("matches"), scope_selectors: { repository: selector("repoMatches") } }],
  };
  return [
    { method: "POST", path: "/api/v2.0/projects", template: { project_name: "fuzzed", public: false, metadata: { public: "false" }, storage_limit: -1 } },
    { method: "PUT", path: `/api/v2.0/projects/${project.name}`, template: { metadata: { public: "false", auto_scan: "false" } } },
    { method: "POST", path: `/api/v2.0/projects/${project.name}/members`, template: { role_id: 3, member_user: { username } } },
    {
      method: "POST",
      path: "/api/v2.0/robots",
      template: { name: "fuzzbot", level: "project", duration: 30, permissions: [{ kind: "project", namespace: project.name, access: [{ resource: "repository", action: "pull" }] }] },
    },
    {
      method: "POST",
      path: `/api/v2.0/projects/${project.name}/webhook/policies`,
      template: { name: "hook", enabled: false, event_types: ["PUSH_ARTIFACT"], targets: [{ type: "http", address: "http://127.0.0.1:1/hook", payload_format: "Default" }] },
    },
    { method: "POST", path: "/api/v2.0/retentions", template: retention },
    { method: "POST", path: "/api/v2.0/registries", template: { name: "remote", type: "docker-registry", url: "http://127.0.0.1:1", insecure: true, credential: { type: "basic", access_key: "a", access_secret: "b" } } },
    { method: "POST", path: `/api/v2.0/projects/${project.name}/immutabletagrules`, template: { disabled: false, action: "immutable", template: "immutable_template", tag_selectors: selector("matches"), scope_selectors: { repository: selector("repoMatches") } } },
    { method: "POST", path: "/api/v2.0/users", template: { username: "fuzzuser", email: "f@example.invalid", realname: "F", password: "Fuzz-Passw0rd" } },
  ];
}

const key = fc.oneof(
  fc.constantFrom("name", "project_name", "metadata", "public", "role_id", "member_user", "username", "level", "duration", "permissions", "targets", "address", "scope", "rules", "trigger", "params", "cron", "url", "type", "__proto__", "constructor", "storage_limit"),
  fc.string({ unit: textUnit, maxLength: 12 }),
);

/** A change to a template: a field at a path (known names and indexes) removed or replaced by anything. */
const bodyMutation = fc.record({
  path: fc.array(fc.oneof(key, fc.nat(2)), { minLength: 1, maxLength: 4 }),
  action: fc.constantFrom("delete", "replace", "replace"),
  value: fc.oneof(
    { weight: 4, arbitrary: anyJson },
    { weight: 1, arbitrary: localUrl },
    { weight: 1, arbitrary: deepValue },
    { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, 1e308, -1e308, 0.5, "", "x".repeat(70_000), "\0", "\u202e", [], {}, null, true, "1", "-1") },
  ),
});

export interface BodyCase {
  contentType: string | null;
  body: string;
}

/** Bodies for one endpoint: its template mutated, random JSON, deep nesting, or bytes that are not JSON. */
export function bodyCase(template: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const json = "application/json";
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(bodyMutation, { minLength: 1, maxLength: 4 }).map((changes) => ({ contentType: json, body: JSON.stringify(keepLocal(changes.reduce<unknown>((doc, change) => mutate(doc, change as Mutation), template))) ?? "null" })) },
    { weight: 1, arbitrary: fc.record({ extra: fc.dictionary(fc.string({ unit: textUnit, maxLength: 10 }), anyJson, { maxKeys: 5 }) }).map(({ extra }) => ({ contentType: json, body: JSON.stringify(keepLocal({ ...template, ...extra })) })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4, stringUnit: textUnit }).map((value) => ({ contentType: json, body: JSON.stringify(keepLocal(value)) ?? "null" })) },
    { weight: 1, arbitrary: deepNesting.map((body) => ({ contentType: json, body })) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: "binary", maxLength: 100 }), fc.constantFrom(json, "application/json; charset=latin1", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "")).map(([body, contentType]) => ({ contentType, body })) },
    { weight: 1, arbitrary: fc.constantFrom("", "{", "null", "[]", "1", '"x"', '{"a":', "\ufeff{}", '{"__proto__":{"admin":true}}').map((body) => ({ contentType: json, body })) },
    { weight: 1, arbitrary: fc.constant({ contentType: null, body: JSON.stringify(template) }) },
  );
}

/** The /api request headers of a body case. */
export function bodyHeaders(bodyCase: BodyCase): Record<string, string> {
  return bodyCase.contentType === null ? {} : { "Content-Type": bodyCase.contentType };
}
