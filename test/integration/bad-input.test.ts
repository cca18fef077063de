/**
 * Bad input gets a clear error and loses nothing: every malformed request below gets the exact status and error
 * code, never a 5xx, and leaves no blob, upload or session changed behind it.
 */
import { randomUUID } from "node:crypto";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../support/berth";
import { blobFileOf, committedBlobFiles } from "../support/data-dir";
import { rawRequest, type RawRequest, type RawResponse } from "../support/raw-http";
import { OCI_MANIFEST, RegistryClient } from "../support/registry-client";
import { seededBytes, sha256Of } from "../support/seeded-bytes";

const REPO = "library/bad-input";
const OTHER_REPO = "library/bad-input-other";
const ADMIN = { Authorization: ADMIN_AUTH };
const basic = (credentials: string) => ({ Authorization: `Basic ${Buffer.from(credentials).toString("base64")}` });
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

let berth: TestBerth;
let admin: RegistryClient;
/** A 100-byte blob in REPO, for the range and digest cases. */
let blob: { digest: string; size: number };
/** Blobs a well-formed manifest in REPO can reference. */
let configBlob: { digest: string; size: number };
/** An open session in REPO, never written to: only bad PUTs are sent to it. */
let idleSession: string;
/** An open session of OTHER_REPO holding 10 bytes; REPO must not be able to touch it. */
let foreignSession: { location: string; id: string };

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  const content = seededBytes("bad-input/blob", 100);
  blob = { digest: await admin.pushBlob(REPO, content), size: content.length };
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  configBlob = { digest: await admin.pushBlob(REPO, config), size: config.length };
  idleSession = await admin.startUpload(REPO);
  const foreign = await admin.startUpload(OTHER_REPO);
  expect((await admin.patchChunk(foreign, seededBytes("foreign", 10), 0)).status).toBe(202);
  foreignSession = { location: foreign, id: foreign.split("/").pop()! };
  await admin.createProject("secret", { public: false });
  await admin.createProject("full", { public: false });
  await admin.pushImage("full/app", "v1");
});
afterAll(() => berth.close());

interface ExpectedError {
  status: number;
  code: string;
  /** Matcher for the error's message; any string when absent. */
  message?: unknown;
  detail?: unknown;
}

interface BadRequestCase extends ExpectedError {
  name: string;
  /** Built when the case runs, so it can use the fixtures above. */
  request: () => RawRequest;
}

/** The spec's `{"errors":[…]}` on /v2 (detail optional), Harbor's exact `{code, message}` envelope on /api. */
function expectError(request: RawRequest, response: RawResponse, expected: ExpectedError): void {
  if (request.method === "HEAD") {
    expect(response.status).toBe(expected.status); // a HEAD answer has no body to carry the code
    return;
  }
  const entry = { code: expected.code, message: expected.message ?? expect.any(String) };
  const actual = { status: response.status, body: response.json() };
  if (request.path.startsWith("/api/")) {
    expect(actual).toEqual({ status: expected.status, body: { errors: [entry] } });
  } else {
    const detail = expected.detail === undefined ? {} : { detail: expected.detail };
    expect(actual).toMatchObject({ status: expected.status, body: { errors: [{ ...entry, ...detail }] } });
  }
}

async function send(request: RawRequest): Promise<RawResponse> {
  return rawRequest(berth.url, request);
}

const runCase = async ({ request: build, ...expected }: BadRequestCase) => {
  const request = build();
  expectError(request, await send(request), expected);
};

describe("malformed digests → 400 DIGEST_INVALID", () => {
  const hex = "a".repeat(64);
  const malformed = {
    "wrong algorithm": "md5:d41d8cd98f00b204e9800998ecf8427e",
    "short hex": "sha256:abc123",
    "uppercase hex": `sha256:${hex.toUpperCase()}`,
    "algorithm alone": "sha256:",
  };
  const operations: Record<string, (digest: string) => RawRequest> = {
    "GET blob": (digest) => ({ method: "GET", path: `/v2/${REPO}/blobs/${digest}`, headers: ADMIN }),
    "HEAD blob": (digest) => ({ method: "HEAD", path: `/v2/${REPO}/blobs/${digest}`, headers: ADMIN }),
    "DELETE blob": (digest) => ({ method: "DELETE", path: `/v2/${REPO}/blobs/${digest}`, headers: ADMIN }),
    "PUT upload ?digest=": (digest) => ({ method: "PUT", path: `${idleSession}?digest=${digest}`, headers: ADMIN }),
    "monolithic POST ?digest=": (digest) => ({
      method: "POST",
      path: `/v2/${REPO}/blobs/uploads/?digest=${digest}`,
      headers: { ...ADMIN, "Content-Type": "application/octet-stream" },
      body: "some bytes",
    }),
    "GET manifest by digest": (digest) => ({ method: "GET", path: `/v2/${REPO}/manifests/${digest}`, headers: ADMIN }),
  };
  const cases: BadRequestCase[] = Object.entries(malformed).flatMap(([kind, digest]) =>
    Object.entries(operations).map(([operation, request]) => ({
      name: `${operation} with ${kind} (${digest.slice(0, 20)})`,
      request: () => request(digest),
      status: 400,
      code: "DIGEST_INVALID",
    })),
  );

  it.each(cases)("$name", runCase);

  it("left the blob and the idle session as they were", async () => {
    expect(await admin.blobStatus(REPO, blob.digest)).toBe(200);
    expect(await admin.uploadRange(idleSession)).toBe("0-0");
  });
});

describe("content that does not match its digest → 400 DIGEST_INVALID, and no blob appears", () => {
  const content = seededBytes("mismatch/content", 64);
  const claimed = sha256Of(seededBytes("mismatch/claimed", 64));

  async function expectNoBlobFor(digests: string[]) {
    for (const digest of digests) expect(await admin.blobStatus(REPO, digest)).toBe(404);
    const files = await committedBlobFiles(berth.dataDir);
    for (const digest of digests) expect(files).not.toContain(blobFileOf(digest));
  }

  it("on the PUT that closes a chunked upload", async () => {
    const location = await admin.startUpload(REPO);
    expect((await admin.patchChunk(location, content, 0)).status).toBe(202);
    const request: RawRequest = { method: "PUT", path: `${location}?digest=${claimed}`, headers: ADMIN };
    expectError(request, await send(request), { status: 400, code: "DIGEST_INVALID", detail: { digest: claimed } });
    await expectNoBlobFor([claimed, sha256Of(content)]);
    // The session keeps its bytes, so the client can still finish with the right digest.
    expect(await admin.uploadRange(location)).toBe(`0-${content.length - 1}`);
  });

  it("on a PUT with a last chunk", async () => {
    const location = await admin.startUpload(REPO);
    const request: RawRequest = {
      method: "PUT",
      path: `${location}?digest=${claimed}`,
      headers: { ...ADMIN, "Content-Type": "application/octet-stream" },
      body: content,
    };
    expectError(request, await send(request), { status: 400, code: "DIGEST_INVALID" });
    await expectNoBlobFor([claimed, sha256Of(content)]);
  });

  it("on a monolithic POST", async () => {
    const request: RawRequest = {
      method: "POST",
      path: `/v2/${REPO}/blobs/uploads/?digest=${claimed}`,
      headers: { ...ADMIN, "Content-Type": "application/octet-stream" },
      body: content,
    };
    expectError(request, await send(request), { status: 400, code: "DIGEST_INVALID" });
    await expectNoBlobFor([claimed, sha256Of(content)]);
  });
});

describe("invalid repository names → 400 NAME_INVALID", () => {
  const names = {
    "a ../ segment": "library/../etc",
    "uppercase": "library/Alpine",
    "256 characters": `library/${"a".repeat(248)}`,
    "no project segment": "alpine",
    "an empty segment (//)": "library//alpine",
  };
  const operations: Record<string, (name: string) => RawRequest> = {
    "GET manifest": (name) => ({ method: "GET", path: `/v2/${name}/manifests/latest`, headers: ADMIN }),
    "POST upload": (name) => ({ method: "POST", path: `/v2/${name}/blobs/uploads/`, headers: ADMIN }),
    "GET tags list": (name) => ({ method: "GET", path: `/v2/${name}/tags/list`, headers: ADMIN }),
  };
  const cases: BadRequestCase[] = Object.entries(names).flatMap(([kind, name]) =>
    Object.entries(operations).map(([operation, request]) => ({
      name: `${operation} on a name with ${kind}`,
      request: () => request(name),
      status: 400,
      code: "NAME_INVALID",
    })),
  );

  it.each(cases)("$name", runCase);
});

describe("a project that does not exist", () => {
  const cases: BadRequestCase[] = [
    {
      name: "admin POST upload → 404 NAME_UNKNOWN naming the project",
      request: () => ({ method: "POST", path: "/v2/nope/app/blobs/uploads/", headers: ADMIN }),
      status: 404,
      code: "NAME_UNKNOWN",
      message: expect.stringContaining("project nope"),
      detail: { project: "nope" },
    },
    {
      name: "admin PUT manifest → 404 NAME_UNKNOWN naming the project",
      request: () => ({ method: "PUT", path: "/v2/nope/app/manifests/v1", headers: { ...ADMIN, "Content-Type": OCI_MANIFEST }, body: "{}" }),
      status: 404,
      code: "NAME_UNKNOWN",
      message: expect.stringContaining("project nope"),
    },
  ];

  it.each(cases)("$name", runCase);

  it("is not revealed to anonymous callers: same 401 as for an existing project", async () => {
    const absent = await send({ method: "POST", path: "/v2/nope/app/blobs/uploads/" });
    const present = await send({ method: "POST", path: "/v2/secret/app/blobs/uploads/" });
    expect(absent.status).toBe(401);
    // The refusal repeats the name the request gave, and nothing else differs.
    expect(absent.json()).toEqual(JSON.parse(JSON.stringify(present.json()).replaceAll("secret/", "nope/")));
    expect(present.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: "unauthorized to access repository: secret/app, action: push, caller: anonymous" }] });
  });
});

describe("invalid manifests → 4xx with the reason", () => {
  const validManifest = () => ({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...blob }],
  });
  const put = (body: unknown, contentType = OCI_MANIFEST, reference = "v1"): RawRequest => ({
    method: "PUT",
    path: `/v2/${REPO}/manifests/${reference}`,
    headers: { ...ADMIN, "Content-Type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const unknownBlob = sha256Of("a blob nobody pushed");
  const unknownChild = sha256Of("a manifest nobody pushed");
  const manifestInvalid = { status: 400, code: "MANIFEST_INVALID" };

  const cases: BadRequestCase[] = [
    { name: "invalid JSON", request: () => put('{"schemaVersion": 2,'), ...manifestInvalid },
    { name: "a JSON array", request: () => put([validManifest()]), ...manifestInvalid },
    { name: "schemaVersion 1", request: () => put({ ...validManifest(), schemaVersion: 1 }), ...manifestInvalid },
    {
      name: "an unknown media type (body and Content-Type agree)",
      request: () => put({ ...validManifest(), mediaType: "application/vnd.example.thing+json" }, "application/vnd.example.thing+json"),
      ...manifestInvalid,
    },
    {
      name: "no media type and an unknown Content-Type",
      request: () => put({ schemaVersion: 2, layers: [] }, "application/json"),
      ...manifestInvalid,
    },
    { name: "mediaType in the body ≠ Content-Type", request: () => put(validManifest(), DOCKER_MANIFEST), ...manifestInvalid },
    { name: "no config", request: () => put({ ...validManifest(), config: undefined }), ...manifestInvalid },
    { name: "layers not an array", request: () => put({ ...validManifest(), layers: {} }), ...manifestInvalid },
    {
      name: "a layer with a malformed digest",
      request: () => put({ ...validManifest(), layers: [{ ...validManifest().layers[0], digest: "sha256:xyz" }] }),
      ...manifestInvalid,
    },
    {
      name: "a layer with a negative size",
      request: () => put({ ...validManifest(), layers: [{ ...validManifest().layers[0], size: -1 }] }),
      ...manifestInvalid,
    },
    {
      name: "a layer that was never pushed → 404 MANIFEST_BLOB_UNKNOWN with the digest",
      request: () => put({ ...validManifest(), layers: [{ ...validManifest().layers[0], digest: unknownBlob }] }),
      status: 404,
      code: "MANIFEST_BLOB_UNKNOWN",
      message: expect.stringContaining(unknownBlob),
      detail: { digests: [unknownBlob] },
    },
    {
      name: "an index whose child was never pushed → 404 MANIFEST_BLOB_UNKNOWN with the digest",
      request: () =>
        put({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: unknownChild, size: 100 }] }, OCI_INDEX),
      status: 404,
      code: "MANIFEST_BLOB_UNKNOWN",
      detail: { digests: [unknownChild] },
    },
    {
      name: "pushed by a digest that is not the content's → 400 DIGEST_INVALID",
      request: () => put(validManifest(), OCI_MANIFEST, sha256Of("other content")),
      status: 400,
      code: "DIGEST_INVALID",
    },
    { name: "PUT tag starting with '-'", request: () => put(validManifest(), OCI_MANIFEST, "-bad"), ...manifestInvalid },
    { name: "PUT tag of 129 characters", request: () => put(validManifest(), OCI_MANIFEST, "t".repeat(129)), ...manifestInvalid },
    {
      // A pull of a malformed tag cannot name any manifest: unknown rather than invalid (conformance suite).
      name: "GET tag starting with '-' → 404 MANIFEST_UNKNOWN",
      request: () => ({ method: "GET", path: `/v2/${REPO}/manifests/-bad`, headers: ADMIN }),
      status: 404,
      code: "MANIFEST_UNKNOWN",
    },
    {
      name: "DELETE tag of 129 characters",
      request: () => ({ method: "DELETE", path: `/v2/${REPO}/manifests/${"t".repeat(129)}`, headers: ADMIN }),
      ...manifestInvalid,
    },
  ];

  it.each(cases)("$name", runCase);

  it("stored none of them", async () => {
    const response = await admin.fetch(`/v2/${REPO}/tags/list`);
    expect(await response.json()).toEqual({ name: REPO, tags: [] });
  });

  const fiveMiB = Buffer.alloc(5 * 1024 * 1024, " ");
  it.each([
    { framing: "Content-Length", chunked: false },
    { framing: "chunked transfer", chunked: true },
  ])("refuses a 5 MiB manifest sent with $framing: 413, and keeps serving", async ({ chunked }) => {
    const request: RawRequest = { ...put(Buffer.concat([Buffer.from("{"), fiveMiB, Buffer.from("}")]).toString()), chunked };
    expectError(request, await send(request), { status: 413, code: "SIZE_INVALID" });
    expect((await admin.fetch("/v2/")).status).toBe(200);
    expect(await admin.blobStatus(REPO, blob.digest)).toBe(200);
  });
});

describe("unsatisfiable ranges on a blob GET → 416 RANGE_INVALID", () => {
  const ranges = {
    "end before start": "bytes=10-5",
    "start at the end": "bytes=100-",
    "entirely beyond the end": "bytes=200-300",
    "an empty suffix": "bytes=-0",
    "garbage": "bytes=abc",
    "an unknown unit": "items=0-5",
    "several ranges": "bytes=0-1,5-6",
  };
  const cases: BadRequestCase[] = Object.entries(ranges).map(([kind, range]) => ({
    name: `${kind} (${range})`,
    request: () => ({ method: "GET", path: `/v2/${REPO}/blobs/${blob.digest}`, headers: { ...ADMIN, Range: range } }),
    status: 416,
    code: "RANGE_INVALID",
  }));

  it.each(cases)("$name", runCase);
});

describe("a chunk that does not continue the upload → 4xx, and the upload is unchanged", () => {
  const first = seededBytes("chunks/first", 10);
  const second = seededBytes("chunks/second", 10);
  let location: string;

  beforeAll(async () => {
    location = await admin.startUpload(REPO);
    expect((await admin.patchChunk(location, first, 0)).status).toBe(202);
  });

  const chunk = (method: string, contentRange: string, body: Buffer): RawRequest => ({
    method,
    path: method === "PUT" ? `${location}?digest=${sha256Of(Buffer.concat([first, body]))}` : location,
    headers: { ...ADMIN, "Content-Type": "application/octet-stream", "Content-Range": contentRange },
    body,
  });
  const rangeInvalid = { status: 416, code: "RANGE_INVALID" };
  const cases: BadRequestCase[] = [
    { name: "PATCH starting at 0 again", request: () => chunk("PATCH", "0-9", second), ...rangeInvalid },
    { name: "PATCH starting inside the upload", request: () => chunk("PATCH", "5-14", second), ...rangeInvalid },
    { name: "PATCH leaving a gap", request: () => chunk("PATCH", "20-29", second), ...rangeInvalid },
    { name: "PATCH whose Content-Range covers more than Content-Length", request: () => chunk("PATCH", "10-19", second.subarray(0, 5)), ...rangeInvalid },
    { name: "PATCH whose Content-Range covers less than Content-Length", request: () => chunk("PATCH", "10-14", second), ...rangeInvalid },
    { name: "PATCH with a Content-Range ending before it starts", request: () => chunk("PATCH", "19-10", second), ...rangeInvalid },
    { name: "PATCH with a garbage Content-Range", request: () => chunk("PATCH", "garbage", second), ...rangeInvalid },
    { name: "closing PUT leaving a gap", request: () => chunk("PUT", "20-29", second), ...rangeInvalid },
  ];

  it.each(cases)("$name", async (testCase) => {
    await runCase(testCase);
    expect(await admin.uploadRange(location)).toBe("0-9");
  });

  it("can still be completed with the right digest afterwards", async () => {
    const digest = sha256Of(Buffer.concat([first, second]));
    expect((await admin.patchChunk(location, second, 10)).status).toBe(202);
    expect((await admin.finishUpload(location, digest)).status).toBe(201);
    expect(await admin.pulledDigest(REPO, digest)).toBe(digest);
  });
});

describe("unknown upload ids → 404 BLOB_UPLOAD_UNKNOWN", () => {
  const someDigest = sha256Of("anything");
  const onSession = (method: string, location: () => string): RawRequest => ({
    method,
    path: method === "PUT" ? `${location()}?digest=${someDigest}` : location(),
    headers: { ...ADMIN, "Content-Type": "application/octet-stream" },
    body: method === "PATCH" || method === "PUT" ? "ten bytes!" : undefined,
  });
  const sessions: Record<string, () => string> = {
    "an id that never existed": () => `/v2/${REPO}/blobs/uploads/${randomUUID()}`,
    "an id that is not a UUID": () => `/v2/${REPO}/blobs/uploads/not..an-id`,
    "another repository's session": () => `/v2/${REPO}/blobs/uploads/${foreignSession.id}`,
    "another repository's session, via a repository that has none": () => `/v2/library/never-pushed/blobs/uploads/${foreignSession.id}`,
  };
  const cases: BadRequestCase[] = Object.entries(sessions).flatMap(([kind, location]) =>
    ["PATCH", "PUT", "GET", "DELETE"].map((method) => ({
      name: `${method} on ${kind}`,
      request: () => onSession(method, location),
      status: 404,
      code: "BLOB_UPLOAD_UNKNOWN",
    })),
  );

  it.each(cases)("$name", runCase);

  it("left the other repository's session untouched", async () => {
    expect(await admin.uploadRange(foreignSession.location)).toBe("0-9");
  });
});

describe("missing or wrong credentials → 401", () => {
  const withChallenge = async (testCase: BadRequestCase) => {
    const request = testCase.request();
    const response = await send(request);
    expectError(request, response, testCase);
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="http:\/\/[^"]+\/service\/token",service="berth"/);
  };
  const unauthorized = { status: 401, code: "UNAUTHORIZED" };
  const cases: BadRequestCase[] = [
    { name: "anonymous POST upload to library", request: () => ({ method: "POST", path: `/v2/${REPO}/blobs/uploads/` }), ...unauthorized },
    {
      name: "anonymous monolithic push to library",
      request: () => ({ method: "POST", path: `/v2/${REPO}/blobs/uploads/?digest=${sha256Of("x")}`, body: "x" }),
      ...unauthorized,
    },
    {
      name: "anonymous PUT manifest in library",
      request: () => ({ method: "PUT", path: `/v2/${REPO}/manifests/v1`, headers: { "Content-Type": OCI_MANIFEST }, body: "{}" }),
      ...unauthorized,
    },
    { name: "anonymous DELETE blob in library", request: () => ({ method: "DELETE", path: `/v2/${REPO}/blobs/${blob.digest}` }), ...unauthorized },
    { name: "anonymous PATCH of an open session", request: () => ({ method: "PATCH", path: idleSession, body: "x" }), ...unauthorized },
    { name: "anonymous pull from a private project", request: () => ({ method: "GET", path: "/v2/secret/app/manifests/v1" }), ...unauthorized },
    { name: "anonymous GET /v2/", request: () => ({ method: "GET", path: "/v2/" }), ...unauthorized },
    { name: "wrong password on /v2/", request: () => ({ method: "GET", path: "/v2/", headers: basic("admin:wrong") }), ...unauthorized },
    {
      name: "wrong password on a public pull",
      request: () => ({ method: "GET", path: `/v2/${REPO}/blobs/${blob.digest}`, headers: basic("admin:wrong") }),
      ...unauthorized,
    },
    { name: "unknown user", request: () => ({ method: "POST", path: `/v2/${REPO}/blobs/uploads/`, headers: basic("nobody:x") }), ...unauthorized },
    {
      name: "Basic credentials without a colon",
      request: () => ({ method: "GET", path: "/v2/", headers: { Authorization: `Basic ${Buffer.from("admin").toString("base64")}` } }),
      ...unauthorized,
    },
    { name: "an unsupported scheme", request: () => ({ method: "GET", path: "/v2/", headers: { Authorization: "Bearer abc" } }), ...unauthorized },
  ];

  it.each(cases)("$name, with a WWW-Authenticate challenge", withChallenge);
});

describe("/api/v2.0 refuses bad requests in Harbor's envelope", () => {
  const json = (method: string, path: string, body: string): RawRequest => ({
    method,
    path: `/api/v2.0${path}`,
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body,
  });
  const createProject = (body: unknown) => json("POST", "/projects", JSON.stringify(body));
  const asAdmin = (method: string, path: string): RawRequest => ({ method, path: `/api/v2.0${path}`, headers: ADMIN });
  const badRequest = { status: 400, code: "BAD_REQUEST" };

  const cases: BadRequestCase[] = [
    { name: "malformed JSON", request: () => json("POST", "/projects", '{"project_name": '), ...badRequest },
    { name: "an empty JSON body", request: () => json("POST", "/projects", ""), ...badRequest },
    { name: "a JSON array", request: () => createProject([{ project_name: "x" }]), ...badRequest },
    { name: "no project_name", request: () => createProject({ metadata: {} }), ...badRequest },
    { name: "an uppercase project name", request: () => createProject({ project_name: "Dev-Team" }), ...badRequest },
    { name: "a project name with '..'", request: () => createProject({ project_name: "a..b" }), ...badRequest },
    { name: "a project name with '/'", request: () => createProject({ project_name: "a/b" }), ...badRequest },
    { name: "metadata.public that is not a boolean", request: () => createProject({ project_name: "ok", metadata: { public: "yes" } }), ...badRequest },
    { name: "a duplicate project → 409", request: () => createProject({ project_name: "library" }), status: 409, code: "CONFLICT" },
    { name: "page_size=101 → 422", request: () => asAdmin("GET", "/projects?page_size=101"), status: 422, code: "UNPROCESSABLE_ENTITY" },
    { name: "page=0", request: () => asAdmin("GET", "/projects?page=0"), ...badRequest },
    { name: "page_size=abc", request: () => asAdmin("GET", "/projects?page_size=abc"), ...badRequest },
    {
      name: "deleting a project that has repositories → 412",
      request: () => asAdmin("DELETE", "/projects/full"),
      status: 412,
      code: "PRECONDITION",
    },
    { name: "GET of a missing project as admin → 404", request: () => asAdmin("GET", "/projects/nope"), status: 404, code: "NOT_FOUND" },
    { name: "DELETE of a missing project as admin → 404", request: () => asAdmin("DELETE", "/projects/nope"), status: 404, code: "NOT_FOUND" },
    { name: "anonymous GET of a private project → 401", request: () => ({ method: "GET", path: "/api/v2.0/projects/secret" }), status: 401, code: "UNAUTHORIZED" },
    { name: "anonymous GET of a missing project → 401", request: () => ({ method: "GET", path: "/api/v2.0/projects/nope" }), status: 401, code: "UNAUTHORIZED" },
    {
      name: "wrong password → 401",
      request: () => ({ method: "GET", path: "/api/v2.0/projects", headers: basic("admin:wrong") }),
      status: 401,
      code: "UNAUTHORIZED",
    },
  ];

  it.each(cases)("$name", runCase);

  it("tells anonymous callers nothing about whether a private project exists", async () => {
    const present = await send({ method: "GET", path: "/api/v2.0/projects/secret" });
    const absent = await send({ method: "GET", path: "/api/v2.0/projects/nope" });
    const withNameOfAbsent = JSON.parse(JSON.stringify(present.json()).replaceAll("project secret", "project nope"));
    expect({ status: absent.status, body: absent.json() }).toEqual({ status: present.status, body: withNameOfAbsent });
    expect(present.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: "anonymous may not read project secret" }] });
  });

  it("kept the project whose delete was refused, with its image", async () => {
    expect((await admin.fetch("/api/v2.0/projects/full")).status).toBe(200);
    expect((await admin.fetch("/v2/full/app/manifests/v1", { method: "HEAD" })).status).toBe(200);
  });
});

describe("bytes PostgreSQL cannot store, and URLs that do not decode → 4xx, not 500", () => {
  const manifestWith = (extra: Record<string, unknown>): RawRequest => ({
    method: "PUT",
    path: `/v2/${REPO}/manifests/odd`,
    headers: { ...ADMIN, "Content-Type": OCI_MANIFEST },
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
      layers: [],
      ...extra,
    }),
  });
  const asAdmin = (method: string, path: string): RawRequest => ({ method, path, headers: ADMIN });
  const manifestInvalid = { status: 400, code: "MANIFEST_INVALID" };
  const badUrl = (path: string) => ({ method: "GET", path, headers: ADMIN });

  const cases: BadRequestCase[] = [
    { name: "NUL in an annotation value", request: () => manifestWith({ annotations: { a: "x\u0000y" } }), ...manifestInvalid },
    { name: "NUL in an annotation key", request: () => manifestWith({ annotations: { "\u0000": "x" } }), ...manifestInvalid },
    { name: "an unpaired surrogate in an annotation", request: () => manifestWith({ annotations: { a: "\ud800" } }), ...manifestInvalid },
    { name: "NUL in artifactType", request: () => manifestWith({ artifactType: "application/x\u0000" }), ...manifestInvalid },
    {
      name: "NUL in the config media type (stored as the artifact type)",
      request: () => manifestWith({ config: { mediaType: "application/x\u0000", ...configBlob } }),
      ...manifestInvalid,
    },
    { name: "NUL in an upload id", request: () => asAdmin("GET", `${idleSession}%00`), status: 404, code: "BLOB_UPLOAD_UNKNOWN" },
    { name: "NUL in an upload id on PATCH", request: () => ({ ...asAdmin("PATCH", `/v2/${REPO}/blobs/uploads/%00`), body: "xx" }), status: 404, code: "BLOB_UPLOAD_UNKNOWN" },
    { name: "NUL in the tag list's last=", request: () => asAdmin("GET", `/v2/${REPO}/tags/list?last=%00`), status: 400, code: "UNSUPPORTED" },
    { name: "NUL in the catalog's last=", request: () => asAdmin("GET", "/v2/_catalog?last=%00"), status: 400, code: "UNSUPPORTED" },
    {
      name: "NUL in the referrers' artifactType=",
      request: () => asAdmin("GET", `/v2/${REPO}/referrers/${blob.digest}?artifactType=%00`),
      status: 400,
      code: "UNSUPPORTED",
    },
    // /v2 answers with a spec code even when fastify refuses the request before a handler runs (found by test/fuzz).
    { name: "a malformed %-escape in a /v2 path", request: () => badUrl(`/v2/${REPO}/manifests/%E0%A4%A`), status: 400, code: "UNSUPPORTED" },
    { name: "a malformed %-escape in an upload path", request: () => badUrl(`${idleSession}%ZZ`), status: 400, code: "UNSUPPORTED" },
    {
      name: "an empty Content-Type on a manifest PUT",
      request: () => ({ method: "PUT", path: `/v2/${REPO}/manifests/v1`, headers: { ...ADMIN, "Content-Type": "" }, body: "{}" }),
      status: 415,
      code: "UNSUPPORTED",
    },
    // Node's parser refuses these before fastify sees them; the answer is still in the API's error body (test/fuzz).
    { name: "a raw non-ASCII byte in a /v2 path", request: () => badUrl(`/v2/${REPO}/manifests/v\u00a71`), status: 400, code: "UNSUPPORTED" },
    { name: "a raw non-ASCII byte in an /api path", request: () => badUrl("/api/v2.0/projects?q=name=\u00a7"), status: 400, code: "BAD_REQUEST" },
    { name: "NUL in a project name", request: () => asAdmin("GET", "/api/v2.0/projects/a%00b"), status: 404, code: "NOT_FOUND" },
    { name: "NUL in the project list's name=", request: () => asAdmin("GET", "/api/v2.0/projects?name=%00"), status: 400, code: "BAD_REQUEST" },
    { name: "name= given twice", request: () => asAdmin("GET", "/api/v2.0/projects?name=a&name=b"), status: 400, code: "BAD_REQUEST" },
    { name: "NUL in HEAD ?project_name=", request: () => asAdmin("HEAD", "/api/v2.0/projects?project_name=%00"), status: 400, code: "BAD_REQUEST" },
    { name: "a malformed %-escape in an /api path", request: () => badUrl("/api/v2.0/projects/%ZZ"), status: 400, code: "BAD_REQUEST" },
  ];

  it.each(cases)("$name", runCase);
});

describe("q= ranges and query parameters that would break an answer → 400 or a clean answer, not 500", () => {
  const asAdmin = (path: string): RawRequest => ({ method: "GET", path: `/api/v2.0${path}`, headers: ADMIN });
  const badRequest = { status: 400, code: "BAD_REQUEST" };
  const cases: BadRequestCase[] = [
    { name: "an audit-log time range that is not a time", request: () => asAdmin("/audit-logs?q=op_time%3D%5Babc~%5D"), ...badRequest },
    { name: "a project's audit-log range past 31 February", request: () => asAdmin("/projects/full/logs?q=op_time=[2026-02-31~]"), ...badRequest },
    { name: "a project creation_time range that is not a time", request: () => asAdmin("/projects?q=creation_time=[abc~]"), ...badRequest },
    { name: "a project_id range that is not a number", request: () => asAdmin("/projects?q=project_id=[x~]"), ...badRequest },
  ];
  it.each(cases)("$name", runCase);

  it("builds the Link header from re-encoded parameters: CR/LF, non-Latin-1 text and `>; rel=` stay inside one URL", async () => {
    const hostile = { crlf: "a\r\nLink: </evil>; rel=\"next\"", bidi: "\u202Etxt.exe", angle: '>; rel="prev", </evil' };
    const query = new URLSearchParams({ page_size: "1", ...hostile }).toString();
    const first = await send(asAdmin(`/projects?${query}`));
    expect(first.status).toBe(200);
    const link = String(first.headers.link);
    expect(link).toMatch(/^<\/api\/v2\.0\/projects\?[^<>"\s]*>; rel="next"$/);
    const next = new URLSearchParams(link.slice(link.indexOf("?") + 1, link.indexOf(">")));
    expect({ ...Object.fromEntries(next), page: next.get("page") }).toEqual({ ...hostile, page_size: "1", page: "2" });
    const second = await send(asAdmin(link.slice(1, link.indexOf(">")).replace("/api/v2.0", "")));
    expect(second.status).toBe(200);
    expect(String(second.headers.link).split(" , ").map((entry) => entry.replace(/^<[^>]*>/, ""))).toEqual(['; rel="prev"', '; rel="next"']);
  });
});

describe("a Host header that is not a host[:port] → 400, never copied into the token realm", () => {
  it.each([
    'evil" , Bearer realm="http://attacker.example',
    "registry.example/service/token?x=",
    "a b",
    "host,other",
    "[::1",
  ])("Host: %s", async (host) => {
    for (const path of ["/v2/", "/api/v2.0/projects"]) {
      const response = await send({ method: "GET", path, headers: { Host: host } });
      expect({ path, status: response.status, challenge: response.headers["www-authenticate"], body: response.json() }).toEqual({
        path,
        status: 400,
        challenge: undefined,
        // each API's own code: the spec's on /v2, Harbor's on /api
        body: { errors: [{ code: path === "/v2/" ? "UNSUPPORTED" : "BAD_REQUEST", message: expect.stringContaining("Host header") }] },
      });
    }
  });

  it.each(["registry.example:5000", "registry.example", "10.0.0.7:443", "[::1]:5000", "my_registry"])("Host: %s names the realm", async (host) => {
    const response = await send({ method: "GET", path: "/v2/", headers: { Host: host } });
    expect({ status: response.status, challenge: response.headers["www-authenticate"] }).toEqual({
      status: 401,
      challenge: `Bearer realm="http://${host}/service/token",service="berth"`,
    });
  });
});

describe("browser hardening headers", () => {
  it("are on every answer (JSON, errors, blobs), without HSTS over plain HTTP", async () => {
    const requests: RawRequest[] = [
      { method: "GET", path: "/v2/", headers: ADMIN },
      { method: "GET", path: `/v2/${REPO}/blobs/${blob.digest}`, headers: ADMIN },
      { method: "GET", path: "/v2/" },
      { method: "GET", path: "/api/v2.0/projects", headers: ADMIN },
      { method: "GET", path: "/api/v2.0/nothing-here", headers: ADMIN },
    ];
    for (const request of requests) {
      const { headers, status } = await send(request);
      expect({ path: request.path, status, nosniff: headers["x-content-type-options"], frame: headers["x-frame-options"], csp: headers["content-security-policy"], hsts: headers["strict-transport-security"] }).toEqual({
        path: request.path,
        status: expect.any(Number),
        nosniff: "nosniff",
        frame: "DENY",
        csp: "default-src 'none'; frame-ancestors 'none'",
        hsts: undefined,
      });
    }
  });
});

describe("names that look like other names", () => {
  const createUser = (username: string): RawRequest => ({
    method: "POST",
    path: "/api/v2.0/users",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: "Passw0rd-long", email: `${randomUUID()}@example.com`, realname: "x" }),
  });
  const createProject = (name: string): RawRequest => ({
    method: "POST",
    path: "/api/v2.0/projects",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ project_name: name }),
  });
  const cases: BadRequestCase[] = [
    { name: "a username with a right-to-left override", request: () => createUser("admin\u202Egnp.exe"), status: 400, code: "BAD_REQUEST", message: expect.stringContaining("Cf") },
    { name: "a username with a zero-width space", request: () => createUser("ad\u200Bmin"), status: 400, code: "BAD_REQUEST", message: expect.stringContaining("Cf") },
    { name: "a username with a tab", request: () => createUser("ad\tmin"), status: 400, code: "BAD_REQUEST", message: expect.stringContaining("Cc") },
    { name: "a project name with a right-to-left override", request: () => createProject("team\u202Ea"), status: 400, code: "BAD_REQUEST" },
    { name: "a project name with a zero-width space", request: () => createProject("te\u200Bam"), status: 400, code: "BAD_REQUEST" },
  ];
  it.each(cases)("$name", runCase);
});

// Runs last (jest keeps file order): every request above was counted by route and status.
it("answered none of the requests in this file with a 5xx", async () => {
  const metrics = await (await fetch(`${berth.metricsUrl}/metrics`)).text();
  expect(metrics).toMatch(/berth_http_requests_total\{/);
  expect(metrics.split("\n").filter((line) => /^berth_http_requests_total\{.*status="5\d\d"/.test(line))).toEqual([]);
});
