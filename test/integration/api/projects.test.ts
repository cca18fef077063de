import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";

let berth: TestBerth;
beforeAll(async () => {
  berth = await startBerth();
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

  it("answers HEAD ?project_name= with 200 or 404", async () => {
    expect((await api("/projects?project_name=library", { method: "HEAD" })).status).toBe(200);
    expect((await api("/projects?project_name=absent", { method: "HEAD" })).status).toBe(404);
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

  it("exposes Prometheus metrics with request counts by route", async () => {
    await fetch(`${berth.url}/v2/`, { headers: { Authorization: ADMIN_AUTH } });
    const text = await (await fetch(`${berth.url}/metrics`)).text();
    expect(text).toMatch(/berth_http_requests_total\{method="GET",route="\/v2\/",status="200"\} \d+/);
    expect(text).toContain("berth_uploads_in_progress");
    expect(text).toContain("berth_blob_bytes_received_total");
  });
});
