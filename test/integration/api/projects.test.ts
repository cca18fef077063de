import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
const PASSWORD = "Member-Passw0rd";
// One user per role (and one with none); `auth.<name>` is their Basic header.
const USERS = ["padmin", "maint", "dev", "guest", "limited", "outsider", "olivia"] as const;
const auth = Object.fromEntries(USERS.map((u) => [u, basicAuth(u, PASSWORD)])) as Record<(typeof USERS)[number], string>;

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  for (const user of USERS) await admin.createUser(user, PASSWORD);
});
afterAll(() => berth.close());

const api = (path: string, init: RequestInit & { auth?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set("Authorization", init.auth ?? ADMIN_AUTH);
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  return fetch(`${berth.url}/api/v2.0${path}`, { ...init, headers });
};

describe("projects API", () => {
  it("has the public project library from the first start", async () => {
    const response = await api("/projects/library", { auth: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: "library", metadata: { public: "true" }, repo_count: 0 });
  });

  it("creates a private project with 201 and a Location holding its id", async () => {
    const response = await api("/projects", {
      method: "POST",
      body: JSON.stringify({ project_name: "dev-team", metadata: { public: "false" } }),
    });
    expect(response.status).toBe(201);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/^\/api\/v2\.0\/projects\/\d+$/);
    const project = await (await api(location.replace("/api/v2.0", ""))).json();
    expect(project).toMatchObject({ name: "dev-team", owner_name: "admin", metadata: { public: "false" } });
  });

  it("accepts Harbor's legacy top-level public flag", async () => {
    const response = await api("/projects", { method: "POST", body: JSON.stringify({ project_name: "legacy", public: true }) });
    expect(response.status).toBe(201);
    expect(((await (await api("/projects/legacy")).json()) as { metadata: { public: string } }).metadata.public).toBe("true");
  });

  it("puts the name in Location when asked with X-Resource-Name-In-Location", async () => {
    const response = await api("/projects", {
      method: "POST",
      headers: { "X-Resource-Name-In-Location": "true" },
      body: JSON.stringify({ project_name: "by-name" }),
    });
    expect(response.headers.get("location")).toBe("/api/v2.0/projects/by-name");
  });

  it("answers HEAD ?project_name= with 200 or 404, to logged-in callers only (as Harbor)", async () => {
    expect((await api("/projects?project_name=library", { method: "HEAD" })).status).toBe(200);
    expect((await api("/projects?project_name=absent", { method: "HEAD" })).status).toBe(404);
    expect((await api("/projects?project_name=library", { method: "HEAD", auth: null })).status).toBe(401);
    expect((await api("/projects?project_name=absent", { method: "HEAD", auth: null })).status).toBe(401);
  });

  it("lists only public projects to anonymous callers, with X-Total-Count", async () => {
    const response = await api("/projects", { auth: null });
    const names = ((await response.json()) as { name: string }[]).map((p: { name: string }) => p.name);
    expect(names).toContain("library");
    expect(names).not.toContain("dev-team");
    expect(Number(response.headers.get("x-total-count"))).toBe(names.length);
  });

  it("pages the list with page/page_size and a Link header", async () => {
    const response = await api("/projects?page=1&page_size=2");
    expect(((await response.json()) as unknown[]).length).toBe(2);
    expect(response.headers.get("link")).toContain('rel="next"');
  });

  it("refuses anonymous creation with 401 in Harbor's envelope", async () => {
    const response = await api("/projects", { auth: null, method: "POST", body: JSON.stringify({ project_name: "anon" }) });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: expect.any(String) }] });
  });

  it("deletes an empty project", async () => {
    await api("/projects", { method: "POST", body: JSON.stringify({ project_name: "short-lived" }) });
    expect((await api("/projects/short-lived", { method: "DELETE" })).status).toBe(200);
    expect((await api("/projects/short-lived")).status).toBe(404);
  });
});

const put = (path: string, body: unknown, authorization: string | null = ADMIN_AUTH) =>
  api(path, { method: "PUT", auth: authorization, body: JSON.stringify(body) });
const post = (path: string, body: unknown, authorization: string | null = ADMIN_AUTH) =>
  api(path, { method: "POST", auth: authorization, body: JSON.stringify(body) });
const getJson = async <T = Record<string, unknown>>(path: string, authorization: string | null = ADMIN_AUTH): Promise<T> => {
  const response = await api(path, { auth: authorization });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

interface ApiProject {
  project_id: number;
  name: string;
  owner_name: string;
  update_time: string;
  metadata: Record<string, string>;
  current_user_role_id: number;
  current_user_role_ids: number[];
}

/** Creates a project as admin (or `authorization`) with extra ProjectReq fields; returns its id. */
async function createProject(name: string, extra: Record<string, unknown> = {}, authorization = ADMIN_AUTH): Promise<number> {
  const response = await post("/projects", { project_name: name, ...extra }, authorization);
  expect(response.status).toBe(201);
  return Number(response.headers.get("location")!.split("/").pop());
}

/** Gives each role user their role in `project`: padmin 1, dev 2, guest 3, maint 4, limited 5. */
async function addRoleMembers(project: string): Promise<void> {
  const roles = { padmin: 1, dev: 2, guest: 3, maint: 4, limited: 5 } as const;
  for (const [user, role] of Object.entries(roles)) await admin.addMember(project, user, role);
}

async function expectBadRequest(response: Response, message?: RegExp): Promise<void> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]!.code).toBe("BAD_REQUEST");
  if (message) expect(body.errors[0]!.message).toMatch(message);
}

describe("PUT /projects/{p}", () => {
  beforeAll(async () => {
    await createProject("flip", { metadata: { public: "false", auto_scan: "true", severity: "high" } });
    await addRoleMembers("flip");
    await admin.pushImage("flip/app", "v1");
  });

  it("makes a private project public for anonymous pulls and reads at once, keeping the other metadata", async () => {
    const anonymous = new RegistryClient(berth.url, null);
    // The anonymous pull first caches the project as private on this node.
    expect((await anonymous.fetch("/v2/flip/app/manifests/v1")).status).toBe(401);
    expect((await api("/projects/flip", { auth: null })).status).toBe(401);
    const before = await getJson<ApiProject>("/projects/flip");

    const response = await put("/projects/flip", { metadata: { public: "true" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");

    expect((await anonymous.fetch("/v2/flip/app/manifests/v1")).status).toBe(200);
    const after = await getJson<ApiProject>("/projects/flip", null);
    expect(after.metadata).toEqual({ public: "true", auto_scan: "true", severity: "high" });
    expect(after.update_time).not.toBe(before.update_time);
  });

  it("leaves public alone when the body does not name it, and honours the legacy top-level flag", async () => {
    expect((await put("/projects/flip", { metadata: { auto_scan: "false" } })).status).toBe(200);
    expect((await getJson<ApiProject>("/projects/flip")).metadata).toEqual({ public: "true", auto_scan: "false", severity: "high" });

    expect((await put("/projects/flip", { public: false })).status).toBe(200);
    expect((await getJson<ApiProject>("/projects/flip")).metadata.public).toBe("false");
    expect((await new RegistryClient(berth.url, null).fetch("/v2/flip/app/manifests/v1")).status).toBe(401);

    // metadata.public wins over the legacy flag.
    expect((await put("/projects/flip", { public: true, metadata: { public: "false" } })).status).toBe(200);
    expect((await getJson<ApiProject>("/projects/flip")).metadata.public).toBe("false");
  });

  it("ignores project_name, storage_limit and registry_id", async () => {
    const id = (await getJson<ApiProject>("/projects/flip")).project_id;
    expect((await put(`/projects/${id}`, { project_name: "renamed", storage_limit: 5, registry_id: 3 })).status).toBe(200);
    expect((await getJson<ApiProject>(`/projects/${id}`)).name).toBe("flip");
    expect((await api("/projects/renamed")).status).toBe(404);
    const summary = await getJson<{ quota: { hard: { storage: number } } }>("/projects/flip/summary");
    expect(summary.quota.hard.storage).toBe(-1);
  });

  it("writes an audit record of the update", async () => {
    expect((await put("/projects/flip", { metadata: { prevent_vul: "true" } }, auth.padmin)).status).toBe(200);
    const records = await getJson<{ username: string; operation: string; resource_type: string; resource: string; operation_description: string }[]>(
      "/projects/flip/logs?q=operation=update,username=padmin",
    );
    expect(records[0]).toMatchObject({ operation: "update", resource_type: "project", resource: "flip" });
    expect(records[0]!.operation_description).toContain("prevent_vul");
  });

  it.each([
    ["a body that is not JSON", "{"],
    ["an array", "[]"],
    ["metadata that is not an object", JSON.stringify({ metadata: "public" })],
    ["a flag that is not true/false", JSON.stringify({ metadata: { public: "yes" } })],
    ["a value that is not a string", JSON.stringify({ metadata: { auto_scan: true } })],
    ["an unknown severity", JSON.stringify({ metadata: { severity: "dire" } })],
    ["a legacy public that is not a boolean", JSON.stringify({ public: "true" })],
  ])("answers 400 for %s", async (_, body) => {
    await expectBadRequest(await api("/projects/flip", { method: "PUT", body }));
  });

  it("refuses developers (403) and anonymous callers (401)", async () => {
    expect((await put("/projects/flip", { metadata: { public: "true" } }, auth.dev)).status).toBe(403);
    expect((await put("/projects/flip", { metadata: { public: "true" } }, auth.maint)).status).toBe(403);
    const anonymous = await put("/projects/flip", { metadata: { public: "true" } }, null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: expect.any(String) }] });
    expect((await getJson<ApiProject>("/projects/flip")).metadata.public).toBe("false");
  });

  it("answers a non-member 403 whether or not the private project exists; only admins learn 404", async () => {
    expect((await put("/projects/flip", { metadata: {} }, auth.outsider)).status).toBe(403);
    expect((await put("/projects/no-such-project", { metadata: {} }, auth.outsider)).status).toBe(403);
    expect((await put("/projects/no-such-project", { metadata: {} })).status).toBe(404);
  });
});

describe("metadata endpoints", () => {
  beforeAll(async () => {
    await createProject("meta", { metadata: { public: "true" } });
    await addRoleMembers("meta");
  });

  it("lists the metadata as a map, with or without the trailing slash", async () => {
    expect(await getJson("/projects/meta/metadatas/")).toEqual({ public: "true" });
    expect(await getJson("/projects/meta/metadatas")).toEqual({ public: "true" });
  });

  it("adds one key with POST, reads it back, and refuses to add it twice", async () => {
    expect((await post("/projects/meta/metadatas/", { auto_scan: "TRUE" })).status).toBe(200);
    expect(await getJson("/projects/meta/metadatas/auto_scan")).toEqual({ auto_scan: "true" });
    expect((await post("/projects/meta/metadatas/", { auto_scan: "false" })).status).toBe(409);
  });

  it.each([
    ["two keys", { auto_scan: "true", prevent_vul: "true" }],
    ["no key", {}],
    ["an unknown key", { retention_id: "7" }],
    ["a bad flag", { prevent_vul: "maybe" }],
    ["a bad severity", { severity: "extreme" }],
  ])("refuses a POST with %s (400)", async (_, body) => {
    await expectBadRequest(await post("/projects/meta/metadatas/", body));
  });

  it("changes one key with PUT; the body's key must be the path's", async () => {
    expect((await put("/projects/meta/metadatas/auto_scan", { auto_scan: "false" })).status).toBe(200);
    expect(await getJson("/projects/meta/metadatas/auto_scan")).toEqual({ auto_scan: "false" });
    await expectBadRequest(await put("/projects/meta/metadatas/auto_scan", { prevent_vul: "true" }), /path/);
    await expectBadRequest(await put("/projects/meta/metadatas/auto_scan", { auto_scan: "false", prevent_vul: "true" }));
    await expectBadRequest(await put("/projects/meta/metadatas/bogus", { bogus: "1" }), /invalid key/);
    await expectBadRequest(await put("/projects/meta/metadatas/auto_scan", { auto_scan: "nope" }));
  });

  it("answers 404 for a key the project does not have", async () => {
    expect((await api("/projects/meta/metadatas/severity")).status).toBe(404);
    expect((await api("/projects/meta/metadatas/constructor")).status).toBe(404);
    expect((await put("/projects/meta/metadatas/severity", { severity: "low" })).status).toBe(404);
    expect((await api("/projects/meta/metadatas/severity", { method: "DELETE" })).status).toBe(404);
  });

  it("deletes a key, and deleting public makes the project private", async () => {
    expect((await api("/projects/meta/metadatas/auto_scan", { method: "DELETE" })).status).toBe(200);
    expect((await api("/projects/meta/metadatas/auto_scan")).status).toBe(404);
    expect((await api("/projects/meta", { auth: null })).status).toBe(200);
    expect((await api("/projects/meta/metadatas/public", { method: "DELETE" })).status).toBe(200);
    expect(await getJson("/projects/meta/metadatas/")).toEqual({ public: "false" });
    expect((await api("/projects/meta", { auth: null })).status).toBe(401);
  });

  it("audits every metadata write", async () => {
    const records = await getJson<{ operation: string; resource_type: string; operation_description: string }[]>(
      "/projects/meta/logs?q=operation=update,resource_type=project&page_size=100",
    );
    const descriptions = records.map((r) => r.operation_description);
    expect(descriptions).toEqual(
      expect.arrayContaining([
        expect.stringContaining("add metadata auto_scan=true"),
        expect.stringContaining("set metadata auto_scan=false"),
        expect.stringContaining("delete metadata auto_scan"),
        expect.stringContaining("delete metadata public"),
      ]),
    );
  });

  it("lets maintainers read but not write, and others not even read", async () => {
    expect((await api("/projects/meta/metadatas/", { auth: auth.maint })).status).toBe(200);
    expect((await post("/projects/meta/metadatas/", { prevent_vul: "true" }, auth.maint)).status).toBe(403);
    expect((await put("/projects/meta/metadatas/public", { public: "true" }, auth.maint)).status).toBe(403);
    expect((await api("/projects/meta/metadatas/public", { method: "DELETE", auth: auth.maint })).status).toBe(403);
    expect((await api("/projects/meta/metadatas/", { auth: auth.dev })).status).toBe(403);
    expect((await api("/projects/meta/metadatas/", { auth: null })).status).toBe(401);
    expect((await post("/projects/meta/metadatas/", { prevent_vul: "true" }, auth.padmin)).status).toBe(200);
  });
});

describe("summary, _deletable and storage_limit", () => {
  let blobSize: (repository: string, digest: string) => Promise<number>;
  beforeAll(async () => {
    blobSize = async (repository, digest) => Number((await admin.fetch(`/v2/${repository}/blobs/${digest}`, { method: "HEAD" })).headers.get("content-length"));
  });

  it("counts members per role, repositories and the distinct blobs the manifests reference", async () => {
    await createProject("counted", { storage_limit: 10737418240 });
    await addRoleMembers("counted");
    await admin.addMember("counted", "outsider", 2);
    // Two repositories share one image's blobs; a third image adds its own.
    const shared = await admin.pushImage("counted/one", "v1", "shared-seed");
    await admin.pushImage("counted/two", "v1", "shared-seed");
    const other = await admin.pushImage("counted/three", "v1", "other-seed");
    const used =
      (await blobSize("counted/one", shared.configDigest)) +
      (await blobSize("counted/one", shared.layerDigest)) +
      (await blobSize("counted/three", other.configDigest)) +
      (await blobSize("counted/three", other.layerDigest));

    expect(await getJson("/projects/counted/summary", auth.guest)).toEqual({
      repo_count: 3,
      project_admin_count: 2, // admin, the creator, and padmin
      maintainer_count: 1,
      developer_count: 2,
      guest_count: 1,
      limited_guest_count: 1,
      quota: { hard: { storage: 10737418240 }, used: { storage: used } },
    });
  });

  it("shows anonymous callers of a public project only the repository count", async () => {
    expect(await getJson("/projects/library/summary", null)).toEqual({ repo_count: 0 });
    expect((await api("/projects/counted/summary", { auth: null })).status).toBe(401);
    expect((await api("/projects/counted/summary", { auth: auth.olivia })).status).toBe(403);
  });

  it("tells whether a project can be deleted, to those who may delete it", async () => {
    expect(await getJson("/projects/counted/_deletable")).toEqual({ deletable: false, message: expect.stringContaining("repositories") });
    await createProject("empty-one");
    expect(await getJson("/projects/empty-one/_deletable")).toEqual({ deletable: true, message: "" });
    expect((await api("/projects/counted/_deletable", { auth: auth.maint })).status).toBe(403);
    expect(await getJson("/projects/counted/_deletable", auth.padmin)).toMatchObject({ deletable: false });
  });

  it.each([
    ["below -1", -2],
    ["zero bytes above the maximum", 1125899906842625],
    ["a string", "10"],
    ["a fraction", 1.5],
  ])("refuses a storage_limit %s with 400", async (_, limit) => {
    await expectBadRequest(await post("/projects", { project_name: "bad-limit", storage_limit: limit }), /storage_limit/);
    expect((await api("/projects/bad-limit")).status).toBe(404);
  });

  it("keeps a sysadmin's limit (-1 and 0 mean unlimited) and gives others the default", async () => {
    const hard = async (name: string) => (await getJson<{ quota: { hard: { storage: number } } }>(`/projects/${name}/summary`)).quota.hard.storage;
    await createProject("max-limit", { storage_limit: 1125899906842624 });
    await createProject("zero-limit", { storage_limit: 0 });
    await createProject("unlimited", { storage_limit: -1 });
    await createProject("olivia-limited", { storage_limit: 1024 }, auth.olivia);
    expect(await hard("max-limit")).toBe(1125899906842624);
    expect(await hard("zero-limit")).toBe(-1);
    expect(await hard("unlimited")).toBe(-1);
    expect(await hard("olivia-limited")).toBe(-1);
  });
});

describe("GET /projects filters and sorting", () => {
  const names = async (query: string, authorization: string | null = ADMIN_AUTH) =>
    (await getJson<ApiProject[]>(`/projects?page_size=100&${query}`, authorization)).map((p) => p.name);

  beforeAll(async () => {
    await createProject("zz-alpha", { metadata: { public: "true" } });
    await createProject("zz-beta");
    await createProject("zz-gamma", {}, auth.olivia);
  });

  it("filters with q= on name, public, owner and project_id", async () => {
    expect(await names("q=name=~zz-")).toEqual(["zz-alpha", "zz-beta", "zz-gamma"]);
    expect(await names("q=name=zz-beta")).toEqual(["zz-beta"]);
    expect(await names("q=name=~zz-,public=true")).toEqual(["zz-alpha"]);
    expect(await names("q=owner=olivia")).toEqual(["olivia-limited", "zz-gamma"]);
    expect(await names("q=name={zz-alpha zz-gamma}")).toEqual(["zz-alpha", "zz-gamma"]);
    const beta = (await getJson<ApiProject>("/projects/zz-beta")).project_id;
    expect(await names(`q=project_id=[${beta}~${beta}]`)).toEqual(["zz-beta"]);
    expect(await names("q=creation_time=[2000-01-01T00:00:00~2000-01-02T00:00:00]")).toEqual([]);
    expect(await names("q=name=~zz-,unknown_key=1")).toEqual(["zz-alpha", "zz-beta", "zz-gamma"]);
  });

  it("filters with name= (fuzzy), public= and owner=, counting only the matches", async () => {
    const response = await api("/projects?name=zz-&public=false");
    expect(((await response.json()) as ApiProject[]).map((p) => p.name)).toEqual(["zz-beta", "zz-gamma"]);
    expect(response.headers.get("x-total-count")).toBe("2");
    expect(await names("name=zz&owner=olivia")).toEqual(["zz-gamma"]);
    expect(await names("public=true")).toEqual(expect.arrayContaining(["library", "zz-alpha"]));
    expect(await names("public=true")).not.toContain("zz-beta");
    expect(await names("name=zz-&with_detail=false")).toHaveLength(3);
  });

  it("sorts by name (the default), project_id and times, descending with a leading -", async () => {
    expect(await names("name=zz-&sort=-name")).toEqual(["zz-gamma", "zz-beta", "zz-alpha"]);
    expect(await names("name=zz-&sort=-project_id")).toEqual(["zz-gamma", "zz-beta", "zz-alpha"]);
    expect(await names("name=zz-&sort=-creation_time,name")).toEqual(["zz-gamma", "zz-beta", "zz-alpha"]);
    expect(await names("name=zz-&sort=update_time")).toEqual(["zz-alpha", "zz-beta", "zz-gamma"]);
    const all = await names("");
    expect(all).toEqual([...all].sort());
  });

  it("keeps visibility: filters never reveal a private project to a non-member", async () => {
    expect(await names("q=name=~zz-", null)).toEqual(["zz-alpha"]);
    expect(await names("q=name=~zz-", auth.outsider)).toEqual(["zz-alpha"]);
    expect(await names("q=name=~zz-", auth.olivia)).toEqual(["zz-alpha", "zz-gamma"]);
  });

  it.each([
    ["an unknown sort key", "sort=owner"],
    ["an empty descending sort key", "sort=-"],
    ["a q term without a value", "q=name"],
    ["a q range over times that is not a time", "q=creation_time=[abc~]"],
    ["a q range over ids that is not a number", "q=project_id=[1~x]"],
    ["public that is not a boolean", "public=yes"],
    ["with_detail that is not a boolean", "with_detail=maybe"],
  ])("answers 400 in Harbor's envelope for %s", async (_, query) => {
    await expectBadRequest(await api(`/projects?${query}`));
  });
});

describe("current_user_role_ids", () => {
  beforeAll(async () => {
    await createProject("roles");
    await admin.addMember("roles", "dev", 2);
  });

  it("gives a member their roles in GET /projects/{p} and in the list", async () => {
    expect(await getJson<ApiProject>("/projects/roles", auth.dev)).toMatchObject({ current_user_role_id: 2, current_user_role_ids: [2] });
    const listed = await getJson<ApiProject[]>("/projects?name=roles", auth.dev);
    expect(listed.map((p) => [p.name, p.current_user_role_ids, p.current_user_role_id])).toEqual([["roles", [2], 2]]);
    expect(await getJson<ApiProject>("/projects/roles")).toMatchObject({ current_user_role_id: 1, current_user_role_ids: [1] });
  });

  it("gives callers without a role none", async () => {
    expect(await getJson<ApiProject>("/projects/library", null)).toMatchObject({ current_user_role_id: 0, current_user_role_ids: [] });
    expect(await getJson<ApiProject>("/projects/library", auth.outsider)).toMatchObject({ current_user_role_id: 0, current_user_role_ids: [] });
  });
});

describe("operations endpoints", () => {
  it("reports database and storage health", async () => {
    const response = await api("/health", { auth: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "healthy",
      components: [
        { name: "database", status: "healthy" },
        { name: "storage", status: "healthy" },
      ],
    });
  });

  it("exposes Prometheus metrics with request counts by route on the metrics address", async () => {
    await fetch(`${berth.url}/v2/`, { headers: { Authorization: ADMIN_AUTH } });
    const text = await (await fetch(`${berth.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/berth_http_requests_total\{method="GET",route="\/v2\/",status="200"\} \d+/);
    expect(text).toContain("berth_uploads_in_progress");
    expect(text).toContain("berth_blob_bytes_received_total");
  });
});

describe("request ids", () => {
  it("echoes X-Request-Id, or makes one up, on every response", async () => {
    const echoed = await api("/projects/library", { headers: { "X-Request-Id": "trace-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-42");
    const made = await api("/projects/no-such-project");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const onV2 = await fetch(`${berth.url}/v2/`, { headers: { "X-Request-Id": "trace-43" } });
    expect(onV2.status).toBe(401);
    expect(onV2.headers.get("x-request-id")).toBe("trace-43");
  });
});
