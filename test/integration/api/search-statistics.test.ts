import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
let member: RegistryClient;
let outsider: RegistryClient;
let caDir: string;
const PASSWORD = "Search-Passw0rd";
// Berth serves the file as it is; it only checks at start that it holds a PEM certificate.
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

const anonymous = (path: string) => fetch(`${berth.url}${path}`);

beforeAll(async () => {
  caDir = await mkdtemp(path.join(tmpdir(), "berth-ca-"));
  await writeFile(path.join(caDir, "ca.crt"), CA_PEM);
  berth = await startBerth({ env: { BERTH_TLS_CA_FILE: path.join(caDir, "ca.crt") } });
  admin = new RegistryClient(berth.url);
  await admin.createProject("shop-public", { public: true });
  await admin.createProject("shop-private", { public: false });
  await admin.createProject("warehouse", { public: false });
  await admin.pushImage("shop-public/shopfront", "v1");
  await admin.pushImage("shop-private/shopfront-api", "v1");
  await admin.pushImage("shop-private/billing", "v1");
  await admin.pushImage("warehouse/shop-stock", "v1");
  await admin.createUser("member", PASSWORD);
  await admin.createUser("outsider", PASSWORD);
  await admin.addMember("shop-private", "member", 3);
  member = new RegistryClient(berth.url, basicAuth("member", PASSWORD));
  outsider = new RegistryClient(berth.url, basicAuth("outsider", PASSWORD));
});
afterAll(async () => {
  await berth.close();
  await rm(caDir, { recursive: true, force: true });
});

describe("GET /ping", () => {
  it("answers Pong as text to anyone", async () => {
    const response = await anonymous("/api/v2.0/ping");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await response.text()).toBe("Pong");
  });
});

describe("GET /search", () => {
  type Result = { project: { name: string; project_id: number; repo_count: number }[]; repository: Record<string, unknown>[] };
  const search = async (client: RegistryClient | null, q: string): Promise<Result> => {
    const response = client ? await client.fetch(`/api/v2.0/search?q=${q}`) : await anonymous(`/api/v2.0/search?q=${q}`);
    expect(response.status).toBe(200);
    return (await response.json()) as Result;
  };
  const names = (result: Result) => ({ projects: result.project.map((p) => p.name), repositories: result.repository.map((r) => r.repository_name) });

  // As in Harbor, a repository's name is its full path: the project's name is part of it.
  it("finds projects and repositories by part of their name, in Harbor's shape", async () => {
    const result = await search(admin, "shop");
    expect(names(result)).toEqual({
      projects: ["shop-private", "shop-public"],
      repositories: ["shop-private/billing", "shop-private/shopfront-api", "shop-public/shopfront", "warehouse/shop-stock"],
    });
    expect(result.project[0]).toMatchObject({ name: "shop-private", repo_count: 2, metadata: { public: "false" } });
    expect(result.repository.find((r) => r.repository_name === "shop-public/shopfront")).toEqual({
      project_id: result.project[1].project_id,
      project_name: "shop-public",
      project_public: true,
      repository_name: "shop-public/shopfront",
      pull_count: expect.any(Number),
      artifact_count: 1,
    });
  });

  it("shows only what the caller may see", async () => {
    expect(names(await search(member, "shop"))).toEqual({
      projects: ["shop-private", "shop-public"],
      repositories: ["shop-private/billing", "shop-private/shopfront-api", "shop-public/shopfront"],
    });
    expect(names(await search(outsider, "shop"))).toEqual({ projects: ["shop-public"], repositories: ["shop-public/shopfront"] });
    expect(names(await search(null, "shop"))).toEqual({ projects: ["shop-public"], repositories: ["shop-public/shopfront"] });
    expect(names(await search(outsider, "billing"))).toEqual({ projects: [], repositories: [] });
  });

  it("takes LIKE wildcards literally and needs q", async () => {
    expect(names(await search(admin, "%25"))).toEqual({ projects: [], repositories: [] });
    expect((await admin.fetch("/api/v2.0/search")).status).toBe(400);
  });
});

describe("GET /statistics", () => {
  // "library" (public, empty) exists from the first start.
  it("counts what a member sees, without the storage total", async () => {
    const stats = await (await member.fetch("/api/v2.0/statistics")).json();
    expect(stats).toEqual({
      private_project_count: 1,
      private_repo_count: 2,
      public_project_count: 2,
      public_repo_count: 1,
      total_project_count: 3,
      total_repo_count: 3,
    });
  });

  it("counts everything for system admins, with the storage consumed", async () => {
    const stats = (await (await admin.fetch("/api/v2.0/statistics")).json()) as Record<string, number>;
    expect(stats).toMatchObject({ private_project_count: 2, private_repo_count: 3, public_project_count: 2, public_repo_count: 1, total_project_count: 4, total_repo_count: 4 });
    expect(stats.total_storage_consumption).toBeGreaterThan(4 * 1024);
  });

  it("is for logged-in callers", async () => {
    expect((await anonymous("/api/v2.0/statistics")).status).toBe(401);
  });
});

describe("GET /systeminfo/volumes and /systeminfo/getcert", () => {
  it("tells system admins the free and total bytes of the data directory's filesystem", async () => {
    const { storage } = (await (await admin.fetch("/api/v2.0/systeminfo/volumes")).json()) as { storage: { total: number; free: number }[] };
    expect(storage).toHaveLength(1);
    expect(storage[0].total).toBeGreaterThan(0);
    expect(storage[0].free).toBeGreaterThan(0);
    expect(storage[0].free).toBeLessThanOrEqual(storage[0].total);
    expect((await member.fetch("/api/v2.0/systeminfo/volumes")).status).toBe(403);
    expect((await anonymous("/api/v2.0/systeminfo/volumes")).status).toBe(401);
  });

  it("serves the configured CA certificate to anyone, and says so in /systeminfo", async () => {
    const response = await anonymous("/api/v2.0/systeminfo/getcert");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="ca.crt"');
    expect(await response.text()).toBe(CA_PEM);
    expect(await (await member.fetch("/api/v2.0/systeminfo")).json()).toMatchObject({ has_ca_root: true });
  });
});
