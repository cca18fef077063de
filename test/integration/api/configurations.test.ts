import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

/**
 * Harbor's project_creation_restriction. Berth's default differs from Harbor's (everyone): while a policy source
 * manages the registry, projects come from policy files and only system admins may create others.
 */
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const PASSWORD = "Creator-Passw0rd";

describe("project_creation_restriction by default", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let user: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    await admin.createUser("creator", PASSWORD);
    user = new RegistryClient(berth.url, basicAuth("creator", PASSWORD));
  });
  afterAll(() => berth.close());

  const restriction = async () => ((await (await admin.fetch("/api/v2.0/configurations")).json()) as Record<string, unknown>).project_creation_restriction;

  it("is everyone (Harbor's default) while no policy source manages the registry", async () => {
    expect(await restriction()).toEqual({ value: "everyone", editable: false });
    expect((await user.fetch("/api/v2.0/projects", json("POST", { project_name: "mine" }))).status).toBe(201);
  });

  it("becomes adminonly once a policy source claims the registry", async () => {
    const lock = await admin.fetch("/api/v2.0/controller/lock", json("POST", { holder: "test", source: { repo: "/srv/policies" }, ttl_seconds: 5 }));
    expect(lock.status).toBe(200);
    expect(await restriction()).toEqual({ value: "adminonly", editable: false });
    const refused = await user.fetch("/api/v2.0/projects", json("POST", { project_name: "another" }));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/^user creator may not create /);
    expect((await admin.fetch("/api/v2.0/projects", json("POST", { project_name: "another" }))).status).toBe(201);
  });

  it("is in Harbor's systeminfo for logged-in callers, with the address a pull command names", async () => {
    const anonymous = await new RegistryClient(berth.url, null).fetch("/api/v2.0/systeminfo");
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ auth_mode: "db_auth", self_registration: false, harbor_version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const info = (await (await user.fetch("/api/v2.0/systeminfo")).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ external_url: berth.url, registry_url: berth.host, project_creation_restriction: "adminonly", read_only: false });
    expect(Date.parse(info.current_time as string)).not.toBeNaN();
  });

  it("is shown to system admins only", async () => {
    expect((await user.fetch("/api/v2.0/configurations")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/configurations")).status).toBe(401);
  });
});

describe("BERTH_PROJECT_CREATION_RESTRICTION", () => {
  it("adminonly refuses users even with no policy source", async () => {
    const berth = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: "adminonly" } });
    try {
      const admin = new RegistryClient(berth.url);
      await admin.createUser("creator", PASSWORD);
      const user = new RegistryClient(berth.url, basicAuth("creator", PASSWORD));
      expect((await user.fetch("/api/v2.0/projects", json("POST", { project_name: "mine" }))).status).toBe(403);
      expect(((await (await admin.fetch("/api/v2.0/configurations")).json()) as Record<string, unknown>).project_creation_restriction).toEqual({
        value: "adminonly",
        editable: false,
      });
    } finally {
      await berth.close();
    }
  });
});
