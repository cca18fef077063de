/**
 * Property-based fuzzing of /v2 and /api against one real server (in this process, on an ephemeral port).
 *
 * Every generated request must get an answer below 500, and every 4xx must be in its API's error body: the spec's
 * `{"errors":[{code, message, detail?}]}` on /v2, Harbor's `{"errors":[{code, message}]}` on /api. Where the answer is
 * cheap to predict (upload sessions, ranges, digests, valid manifests) a small model predicts it. At the end the
 * server must still answer /v2/ and the process must not have grown by more than FUZZ_RSS_LIMIT_MB.
 *
 * FUZZ_RUNS is the number of requests in all (800 in `npm test`, 10,000 in `npm run fuzz`), FUZZ_SEED the seed;
 * a failure prints both as the command that repeats it.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { ADMIN_AUTH, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../support/berth";
import type { RawRequest, RawResponse } from "../support/raw-http";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { seededBytes, sha256Of } from "../support/seeded-bytes";
import { bodyCase, bodyEndpoints, bodyHeaders, listRequest, type BodyEndpoint } from "./support/api-arbitraries";
import {
  digest as digestArbitrary,
  manifestCase,
  rangeHeader,
  reference as referenceArbitrary,
  repositoryName,
  uploadStep,
  OCI_MANIFEST,
  type Descriptor,
  type UploadStep,
} from "./support/distribution-arbitraries";
import { FuzzClient, fuzzSettings, reproduceCommand } from "./support/fuzz-client";

const settings = fuzzSettings();
const RSS_LIMIT_MB = Number(process.env.FUZZ_RSS_LIMIT_MB || 300);

/**
 * The process's RSS after a full garbage collection, so the bound is on what the server keeps, not on when V8
 * happens to collect (the last 4 MiB manifest the fuzzer sent is garbage, not growth).
 */
async function settledRss(): Promise<number> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  // Twice, with a pause: freed pages go back to the system a little after the collection that freed them.
  for (let round = 0; round < 2; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return process.memoryUsage().rss;
}
const PROJECT = "fuzz";
const API_PROJECT = "fuzz-api";
const USER = "fuzzer";
const USER_PASSWORD = "Fuzz-Passw0rd-1";

type Caller = "admin" | "user" | "anonymous";
const AUTH: Record<Caller, Record<string, string>> = {
  admin: { Authorization: ADMIN_AUTH },
  user: { Authorization: basicAuth(USER, USER_PASSWORD) },
  anonymous: {},
};
/** Mostly callers who get past authorization, so the request reaches the code behind it. */
const caller = fc.oneof({ weight: 3, arbitrary: fc.constant<Caller>("admin") }, { weight: 2, arbitrary: fc.constant<Caller>("user") }, { weight: 1, arbitrary: fc.constant<Caller>("anonymous") });
const pusher = fc.constantFrom<Caller>("admin", "user");

/** Each property's share of FUZZ_RUNS, and how many requests one of its runs sends on average (measured, rounded down). */
const BUDGET = {
  names: { share: 0.25, perRun: 1 },
  digests: { share: 0.1, perRun: 1.6 },
  ranges: { share: 0.1, perRun: 1 },
  uploads: { share: 0.2, perRun: 6.2 },
  manifests: { share: 0.15, perRun: 1.25 },
  lists: { share: 0.1, perRun: 1 },
  bodies: { share: 0.1, perRun: 1 },
} as const;
const runsOf = (name: keyof typeof BUDGET) => Math.max(1, Math.ceil((settings.requests * BUDGET[name].share) / BUDGET[name].perRun));
/** Generous: the slowest property sends its share at well under 20 ms a request. */
const timeoutOf = (name: keyof typeof BUDGET) => 60_000 + runsOf(name) * BUDGET[name].perRun * 200;

let berth: TestBerth;
let client: FuzzClient;
let rssAtStart: number;
const perProperty = new Map<string, number>();
/** The fixture image in `fuzz/app`: its config, its one 100-byte layer and its manifest (tag v1). */
let image: { config: Descriptor; layer: Descriptor; manifest: Descriptor };
let layerBytes: Buffer;
let apiProject: { name: string; id: number };
/** PUT endpoints of resources made from the create templates, each with its own GET answer as template. */
let updates: BodyEndpoint[] = [];

/**
 * Creates one of each resource from its template and returns the update endpoints of those that exist afterwards:
 * clients update by GET, change, PUT, so the GET answer is the template.
 */
async function updateEndpoints(admin: RegistryClient): Promise<BodyEndpoint[]> {
  const found: BodyEndpoint[] = [];
  for (const endpoint of bodyEndpoints(apiProject, USER)) {
    if (endpoint.method !== "POST") continue;
    const body = JSON.stringify({ ...endpoint.template, ...(endpoint.path.endsWith("/projects") ? { project_name: "fuzz-updated" } : {}) });
    const created = await admin.fetch(endpoint.path, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const location = created.headers.get("location");
    if (created.status !== 201 || !location) throw new Error(`creating ${endpoint.path} for the update fuzz: ${created.status} ${await created.text()}`);
    const current = await admin.fetch(location);
    if (current.status !== 200) continue; // a resource Harbor has no GET of one for
    found.push({ method: "PUT", path: location, template: (await current.json()) as Record<string, unknown> });
  }
  return found;
}

beforeAll(async () => {
  process.stdout.write(`fuzz: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.requests} (repeat with: ${reproduceCommand(settings)})\n`);
  // Webhook and registry templates point at 127.0.0.1:1 (closed), so the outbound guard must allow loopback here.
  berth = await startBerth({ env: { ...RECEIVERS_ON_LOOPBACK, BERTH_LOG_LEVEL: process.env.FUZZ_LOG_LEVEL || "fatal" } });
  client = new FuzzClient(berth.url);
  const admin = new RegistryClient(berth.url);
  await admin.createProject(PROJECT, { public: true });
  await admin.createProject(API_PROJECT, { public: false });
  await admin.createUser(USER, USER_PASSWORD);
  await admin.addMember(PROJECT, USER, 2); // developer: may push, may not delete
  layerBytes = seededBytes("fuzz/layer", 100);
  const pushed = await admin.pushImage(`${PROJECT}/app`, "v1", "fuzz", 100);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed: "fuzz" }));
  image = {
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: pushed.configDigest, size: config.length },
    layer: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: pushed.layerDigest, size: 100 },
    manifest: { mediaType: OCI_MANIFEST, digest: pushed.manifestDigest, size: pushed.manifestSize },
  };
  expect(pushed.layerDigest).toBe(sha256Of(layerBytes));
  const project = (await (await admin.fetch(`/api/v2.0/projects/${API_PROJECT}`)).json()) as { project_id: number };
  apiProject = { name: API_PROJECT, id: project.project_id };
  updates = await updateEndpoints(admin);
  rssAtStart = await settledRss();
}, 120_000);

afterAll(async () => {
  if (client) {
    const seconds = (Date.now() - client.stats.started) / 1000;
    const rss = await settledRss();
    process.stdout.write(
      `fuzz: ${client.stats.requests} requests in ${seconds.toFixed(1)} s; statuses ${client.stats.statusLine()}; ` +
        `RSS ${(rssAtStart / 2 ** 20).toFixed(0)} → ${(rss / 2 ** 20).toFixed(0)} MB; seed ${settings.seed}\n` +
        `fuzz: requests per property: ${[...perProperty].map(([name, count]) => `${name} ${count}`).join(", ")}\n`,
    );
  }
  await berth?.close();
});

/** Runs a property with the suite's seed; a failure says how to repeat the whole run. */
async function check<T>(name: keyof typeof BUDGET, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const index = Object.keys(BUDGET).indexOf(name);
  const before = client.stats.requests;
  try {
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { seed: settings.seed + index, numRuns: runsOf(name), endOnFailure: process.env.FUZZ_SHRINK === "0" });
  } catch (error) {
    (error as Error).message += `\nRepeat this run with: ${reproduceCommand(settings)} (property "${name}")`;
    throw error;
  } finally {
    perProperty.set(name, client.stats.requests - before);
  }
}

function json(response: RawResponse): unknown {
  return JSON.parse(response.body.toString("utf8"));
}

function errorCode(response: RawResponse): string | undefined {
  if (response.body.length === 0) return undefined;
  return (json(response) as { errors: { code: string }[] }).errors[0]?.code;
}

/** The name the server sees after decoding the path segment, or null when it cannot be decoded. */
function decodedName(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** An anonymous push: 401 with a challenge, or 429 once the anonymous rate limit (BERTH_ANONYMOUS_RATE_*) is reached. */
const refusedAnonymous = (response: RawResponse) => response.status === 401 || response.status === 429;

const NAME_GRAMMAR = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const WELL_FORMED_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

describe("/v2", () => {
  const operations: { method: string; path: (name: string, reference: string, digest: string) => string; body?: string }[] = [
    { method: "GET", path: (n, r) => `/v2/${n}/manifests/${r}` },
    { method: "HEAD", path: (n, r) => `/v2/${n}/manifests/${r}` },
    { method: "DELETE", path: (n, r) => `/v2/${n}/manifests/${r}` },
    { method: "PUT", path: (n, r) => `/v2/${n}/manifests/${r}`, body: "{}" },
    { method: "GET", path: (n, _r, d) => `/v2/${n}/blobs/${d}` },
    { method: "HEAD", path: (n, _r, d) => `/v2/${n}/blobs/${d}` },
    { method: "DELETE", path: (n, _r, d) => `/v2/${n}/blobs/${d}` },
    { method: "GET", path: (n, r) => `/v2/${n}/tags/list?n=${r}&last=${r}` },
    { method: "GET", path: (n, r, d) => `/v2/${n}/tags/list?n=${d.length % 2 ? r.length : -r.length}&last=${d}` },
    { method: "GET", path: (_n, r, d) => `/v2/_catalog?n=${"9".repeat(r.length % 14)}&last=${d}` },
    { method: "GET", path: (n) => `/v2/${n}/tags/list` },
    { method: "GET", path: (n, r, d) => `/v2/${n}/referrers/${d}?artifactType=${r}` },
    { method: "POST", path: (n, _r, d) => `/v2/${n}/blobs/uploads/?mount=${d}&from=${n}` },
    { method: "POST", path: (n) => `/v2/${n}/blobs/uploads/` },
    { method: "GET", path: (n, _r, d) => `/v2/${n}/blobs/uploads/${d}` },
    { method: "PATCH", path: (n, r) => `/v2/${n}/manifests/${r}` },
    { method: "GET", path: (n, r) => `/v2/_catalog?n=${r}&last=${n}` },
  ];

  it("names and references: a 4xx in the spec's body, never a 2xx for a name outside the grammar", async () => {
    const arbitrary = fc.record({
      caller,
      name: repositoryName(PROJECT),
      reference: referenceArbitrary(["v1", image.manifest.digest]),
      digest: fc.oneof(digestArbitrary, fc.constantFrom(image.layer.digest, image.config.digest)),
      operation: fc.constantFrom(...operations),
    });
    await check("names", arbitrary, async ({ caller: who, name, reference, digest, operation }) => {
      const request: RawRequest = { method: operation.method, path: operation.path(name, reference, digest), headers: AUTH[who], body: operation.body };
      const response = await client.send(request);
      const decoded = decodedName(name);
      const plain = !/[?#]/.test(name) && !operation.path("", "", "").startsWith("/v2/_catalog");
      if (plain && (decoded === null || !(NAME_GRAMMAR.test(decoded) && decoded.includes("/") && decoded.length <= 255))) {
        client.expect(response.status >= 400, request, response, "a name outside the grammar was accepted");
      }
      if (response.status === 202 && operation.method === "POST") {
        await client.send({ method: "DELETE", path: response.headers.location!, headers: AUTH[who] });
      }
    });
  }, timeoutOf("names"));

  it("?digest= on the PUT that closes an upload and on a monolithic POST", async () => {
    const arbitrary = fc.record({
      who: fc.oneof({ weight: 4, arbitrary: pusher }, { weight: 1, arbitrary: fc.constant<Caller>("anonymous") }),
      monolithic: fc.boolean(),
      content: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      digest: fc.oneof({ weight: 1, arbitrary: fc.constant<"right">("right") }, { weight: 3, arbitrary: digestArbitrary }),
      repeated: fc.boolean(),
    });
    await check("digests", arbitrary, async ({ who, monolithic, content, digest, repeated }) => {
      const repository = `${PROJECT}/digests`;
      const query = `digest=${digest === "right" ? sha256Of(content) : digest}${repeated && !monolithic ? "&digest=sha256:" + "0".repeat(64) : ""}`;
      const headers = { ...AUTH[who], "Content-Type": "application/octet-stream" };
      let path = `/v2/${repository}/blobs/uploads/?${query}`;
      let session: string | undefined;
      if (!monolithic) {
        const open: RawRequest = { method: "POST", path: `/v2/${repository}/blobs/uploads/`, headers: AUTH[who] };
        const started = await client.send(open);
        if (who === "anonymous") return void client.expect(refusedAnonymous(started), open, started, "anonymous opened a session");
        session = started.headers.location!;
        path = `${session}?${query}`;
      }
      const request: RawRequest = { method: monolithic ? "POST" : "PUT", path, headers, body: content };
      const response = await client.send(request);
      const right = digest === "right" && !(repeated && !monolithic);
      const decoded = new URLSearchParams(query).get("digest") ?? "";
      if (who === "anonymous") client.expect(refusedAnonymous(response), request, response, "anonymous pushed a blob");
      else if (monolithic && decoded === "") {
        // An empty digest is no digest: the POST opens a session, as without one.
        client.expect(response.status === 202, request, response, "a POST with an empty digest did not open a session");
        session = response.headers.location;
      }
      else if (right) client.expect(response.status === 201 && response.headers["docker-content-digest"] === sha256Of(content), request, response, "the right digest was refused");
      else if (WELL_FORMED_DIGEST.test(decoded) || !/[%+&#]/.test(query)) {
        // An unknown or malformed digest; a form-decoding question (%, +) aside, the answer is DIGEST_INVALID.
        client.expect(response.status === 400 && errorCode(response) === "DIGEST_INVALID", request, response, "a wrong digest was not DIGEST_INVALID");
      } else client.expect(response.status === 400 || response.status === 201, request, response, "a wrong digest was not refused");
      if (session && response.status !== 201 && who !== "anonymous") {
        const cancelled = await client.send({ method: "DELETE", path: session, headers: AUTH[who] });
        // A PUT that brought bytes which failed a well-formed digest ends the session (as distribution's does).
        const ended = !monolithic && !repeated && content.length > 0 && WELL_FORMED_DIGEST.test(decoded);
        if (ended) client.expect(cancelled.status === 404, { method: "DELETE", path: session }, cancelled, "the session outlived a PUT whose bytes failed the digest");
        else client.expect(cancelled.status === 204, { method: "DELETE", path: session }, cancelled, "the session was not left open by a refused PUT");
      }
    });
  }, timeoutOf("digests"));

  it("Range on blob GET and HEAD: 206 with exactly the bytes named, 200 whole, or 416", async () => {
    const arbitrary = fc.record({ who: caller, method: fc.constantFrom("GET", "HEAD"), range: rangeHeader });
    await check("ranges", arbitrary, async ({ who, method, range }) => {
      const request: RawRequest = { method, path: `/v2/${PROJECT}/app/blobs/${image.layer.digest}`, headers: { ...AUTH[who], Range: range } };
      const response = await client.send(request);
      client.expect([200, 206, 416].includes(response.status), request, response, "a Range answered with something else than 200, 206 or 416");
      const simple = /^bytes=(\d{1,3})-(\d{1,3})$/.exec(range);
      if (simple && Number(simple[1]) <= Number(simple[2]) && Number(simple[1]) < 100) {
        const [start, end] = [Number(simple[1]), Math.min(Number(simple[2]), 99)];
        client.expect(response.status === 206 && response.headers["content-range"] === `bytes ${start}-${end}/100`, request, response, "a satisfiable range was not served");
      }
      if (response.status === 206) {
        const match = /^bytes (\d+)-(\d+)\/100$/.exec(String(response.headers["content-range"]));
        client.expect(match !== null && Number(match[1]) <= Number(match[2]) && Number(match[2]) < 100, request, response, "a 206 with a bad Content-Range");
        const expected = layerBytes.subarray(Number(match![1]), Number(match![2]) + 1);
        client.expect(Number(response.headers["content-length"]) === expected.length, request, response, "a 206 whose length is not its range's");
        if (method === "GET") client.expect(response.body.equals(expected), request, response, "a 206 with other bytes than its range's");
      }
      if (response.status === 200 && method === "GET") client.expect(response.body.equals(layerBytes), request, response, "a 200 that is not the whole blob");
    });
  }, timeoutOf("ranges"));

  it("upload sequences: POST, PATCH, PUT, GET and DELETE in any order keep the session as a model predicts", async () => {
    const arbitrary = fc.record({ who: pusher, steps: fc.array(uploadStep, { minLength: 1, maxLength: 8 }), salt: fc.nat() });
    await check("uploads", arbitrary, async ({ who, steps, salt }) => {
      const repository = `${PROJECT}/uploads`;
      const auth = AUTH[who];
      const open = new Set<string>();
      const start = async () => {
        const request = { method: "POST", path: `/v2/${repository}/blobs/uploads/`, headers: auth };
        const response = await client.send(request);
        client.expect(response.status === 202 && response.headers.range === "0-0", request, response, "a session did not open");
        open.add(response.headers.location!);
        return response.headers.location!;
      };
      let session = await start();
      let bytes: Buffer = Buffer.alloc(0);
      let closed = false;
      const rangeOf = (size: number) => `0-${Math.max(0, size - 1)}`;
      for (const [i, step] of steps.entries()) {
        const chunkOf = (size: number) => seededBytes(`${salt}/${i}`, size);
        if (step.kind === "restart") {
          session = await start();
          bytes = Buffer.alloc(0);
          closed = false;
          continue;
        }
        if (step.kind === "status" || step.kind === "cancel") {
          const request = { method: step.kind === "status" ? "GET" : "DELETE", path: session, headers: auth };
          const response = await client.send(request);
          if (closed) client.expect(response.status === 404 && errorCode(response) === "BLOB_UPLOAD_UNKNOWN", request, response, "a closed session answered");
          else if (step.kind === "status") client.expect(response.status === 204 && response.headers.range === rangeOf(bytes.length), request, response, "the session's Range is not its size");
          else {
            client.expect(response.status === 204, request, response, "a cancel was refused");
            closed = true;
            open.delete(session);
          }
          continue;
        }
        if (step.kind === "patch") {
          const chunk = chunkOf(step.size);
          const chunked = step.chunked && step.size > 0;
          const headers: Record<string, string> = { ...auth, "Content-Type": "application/octet-stream" };
          const range = step.range === "right" && step.size === 0 ? "none" : step.range;
          const from = bytes.length;
          if (range === "right") headers["Content-Range"] = `${from}-${from + step.size - 1}`;
          else if (range === "offset") headers["Content-Range"] = `${from + 1}-${from + Math.max(step.size, 1)}`;
          else if (range === "length") headers["Content-Range"] = `${from}-${from + step.size}`;
          else if (range !== "none") headers["Content-Range"] = range.header;
          const request: RawRequest = { method: "PATCH", path: session, headers, body: chunk, chunked };
          const response = await client.send(request);
          if (closed) {
            client.expect(response.status === 404 || response.status === 416, request, response, "a PATCH to a closed session was not refused");
            continue;
          }
          const lengthChecked = range === "length" && !chunked;
          if (range === "right" || range === "none" || (range === "length" && chunked)) {
            client.expect(response.status === 202, request, response, "a chunk that continues the upload was refused");
          } else if (range === "offset" || lengthChecked) {
            client.expect(response.status === 416 && errorCode(response) === "RANGE_INVALID", request, response, "a chunk at the wrong offset or length was not RANGE_INVALID");
          } else client.expect(response.status === 202 || response.status === 416, request, response, "a chunk with an odd Content-Range got neither 202 nor 416");
          if (response.status === 202) {
            bytes = Buffer.concat([bytes, chunk]);
            client.expect(response.headers.range === rangeOf(bytes.length), request, response, "a PATCH answered a Range other than the session's size");
          }
          continue;
        }
        // PUT: a malformed digest carries no chunk, so the session's bytes are known whatever the server decides.
        const raw = typeof step.digest === "object";
        const chunk = chunkOf(raw ? 0 : step.size);
        const whole = Buffer.concat([bytes, chunk]);
        const digest = step.digest === "right" ? sha256Of(whole) : step.digest === "other" ? sha256Of(Buffer.concat([whole, Buffer.from("x")])) : (step.digest as { raw: string }).raw;
        const headers: Record<string, string> = { ...auth, "Content-Type": "application/octet-stream" };
        if (step.range === "offset") headers["Content-Range"] = `${bytes.length + 1}-${bytes.length + Math.max(chunk.length, 1)}`;
        const request: RawRequest = { method: "PUT", path: `${session}?digest=${digest}`, headers, body: chunk.length ? chunk : undefined, chunked: step.chunked && chunk.length > 0 };
        const response = await client.send(request);
        if (raw) {
          client.expect([400, 404, 416].includes(response.status), request, response, "a PUT with an arbitrary digest was not refused");
          continue;
        }
        if (closed) {
          client.expect(response.status === 404 || response.status === 416, request, response, "a PUT to a closed session was not refused");
          continue;
        }
        if (step.range === "offset") {
          client.expect(response.status === 416 && errorCode(response) === "RANGE_INVALID", request, response, "a last chunk at the wrong offset was not RANGE_INVALID");
          continue;
        }
        bytes = whole;
        if (step.digest === "other") {
          client.expect(response.status === 400 && errorCode(response) === "DIGEST_INVALID", request, response, "content with another digest was not DIGEST_INVALID");
          // A PUT that brought a chunk ends the session (as distribution's does); one without keeps it as it was.
          if (chunk.length > 0) {
            closed = true;
            open.delete(session);
          }
          continue;
        }
        client.expect(response.status === 201 && response.headers["docker-content-digest"] === digest, request, response, "an upload with its right digest did not complete");
        closed = true;
        open.delete(session);
        const pull: RawRequest = { method: "GET", path: `/v2/${repository}/blobs/${digest}`, headers: auth };
        const pulled = await client.send(pull);
        client.expect(pulled.status === 200 && sha256Of(pulled.body) === digest, pull, pulled, "the blob an upload made is not its bytes");
      }
      for (const location of open) {
        const request = { method: "DELETE", path: location, headers: auth };
        const response = await client.send(request);
        client.expect(response.status === 204, request, response, "an open session could not be cancelled");
      }
    });
  }, timeoutOf("uploads"));

  it("manifest PUTs: valid ones are stored byte for byte, everything else is refused in the spec's body", async () => {
    const arbitrary = fc.record({
      who: fc.oneof({ weight: 4, arbitrary: pusher }, { weight: 1, arbitrary: fc.constant<Caller>("anonymous") }),
      manifest: manifestCase(image),
      reference: fc.oneof(fc.constant<"digest">("digest"), fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/), referenceArbitrary([image.manifest.digest])),
    });
    await check("manifests", arbitrary, async ({ who, manifest, reference }) => {
      const own = sha256Of(manifest.body);
      const ref = reference === "digest" ? own : reference;
      const headers = { ...AUTH[who], ...(manifest.contentType === null ? {} : { "Content-Type": manifest.contentType }) };
      const request: RawRequest = { method: "PUT", path: `/v2/${PROJECT}/app/manifests/${ref}`, headers, body: manifest.body };
      const response = await client.send(request);
      const namesIt = ref === own || /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(ref);
      // A malformed path (400) or an empty Content-Type (415) is refused before any handler asks who the caller is.
      if (who === "anonymous") client.expect(response.status >= 400, request, response, "anonymous pushed a manifest");
      else if (manifest.valid && namesIt) client.expect(response.status === 201, request, response, "a valid manifest was refused");
      if (WELL_FORMED_DIGEST.test(ref) && ref !== own) client.expect(response.status >= 400, request, response, "a manifest was stored under another digest");
      if (response.status === 201) {
        client.expect(response.headers["docker-content-digest"] === own, request, response, "the stored digest is not the body's");
        const pull: RawRequest = { method: "GET", path: `/v2/${PROJECT}/app/manifests/${own}`, headers: { ...AUTH[who], Accept: "*/*" } };
        const pulled = await client.send(pull);
        client.expect(pulled.status === 200 && pulled.body.toString("utf8") === manifest.body, pull, pulled, "a stored manifest did not come back byte for byte");
      }
    });
  }, timeoutOf("manifests"));
});

describe("/api", () => {
  it("list endpoints with q=, sort=, page and page_size: a JSON list or Harbor's error body", async () => {
    await check("lists", fc.record({ who: caller, list: listRequest(API_PROJECT) }), async ({ who, list }) => {
      const request: RawRequest = { method: "GET", path: list.path, headers: AUTH[who] };
      const response = await client.send(request);
      if (response.status === 200) {
        let body: unknown;
        try {
          body = json(response);
        } catch {
          body = undefined;
        }
        client.expect(Array.isArray(body), request, response, "a list answered 200 without a JSON list");
        const total = response.headers["x-total-count"];
        client.expect(total === undefined || /^\d+$/.test(String(total)), request, response, "X-Total-Count is not a count");
      }
    });
  }, timeoutOf("lists"));

  it("JSON bodies of the create and update endpoints: random shapes get Harbor's error body, never a 5xx", async () => {
    const endpoints = () => [...bodyEndpoints(apiProject, USER), ...updates];
    const arbitrary = fc
      .record({ who: fc.oneof({ weight: 4, arbitrary: fc.constant<Caller>("admin") }, { weight: 1, arbitrary: caller }), index: fc.nat() })
      .chain(({ who, index }) => {
        const list = endpoints();
        const endpoint = list[index % list.length];
        return bodyCase(endpoint.template).map((body) => ({ who, endpoint, body }));
      });
    await check("bodies", arbitrary, async ({ who, endpoint, body }) => {
      const request: RawRequest = { method: endpoint.method, path: endpoint.path, headers: { ...AUTH[who], ...bodyHeaders(body) }, body: body.body };
      const response = await client.send(request);
      if (who === "anonymous") client.expect(response.status >= 400, request, response, "anonymous changed something");
    });
  }, timeoutOf("bodies"));
});

describe("after the run", () => {
  it("the server still answers /v2/, and the process grew by less than FUZZ_RSS_LIMIT_MB", async () => {
    const request = { method: "GET", path: "/v2/", headers: AUTH.admin };
    const response = await client.send(request);
    expect(response.status).toBe(200);
    const grownMb = ((await settledRss()) - rssAtStart) / 2 ** 20;
    expect(grownMb).toBeLessThan(RSS_LIMIT_MB);
  });
});
