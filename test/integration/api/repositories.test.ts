import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, OCI_MANIFEST, RegistryClient, type PushedImage } from "../../support/registry-client";

/** Harbor's repository and artifact listings across a project or the registry, descriptions, and accessories. */
let berth: TestBerth;
let admin: RegistryClient;
let image: PushedImage;
const PASSWORD = "Repos-Passw0rd-1";
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const as = (user: string) => new RegistryClient(berth.url, basicAuth(user, PASSWORD));
const names = async (response: Response) => ((await response.json()) as { name: string }[]).map((r) => r.name);

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("open", { public: true });
  await admin.createProject("closed", { public: false });
  await admin.createProject("hidden", { public: false });
  await admin.createUser("dev", PASSWORD);
  await admin.addMember("closed", "dev", 2);
  await admin.createUser("guest", PASSWORD);
  await admin.addMember("closed", "guest", 3);
  image = await admin.pushImage("open/web", "v1", "web");
  await admin.pushImage("closed/api", "v1", "api");
  await admin.pushImage("closed/api", "v2", "api2");
  await admin.pushImage("closed/tools/lint", "v1", "lint");
  await admin.pushImage("hidden/vault", "v1", "vault");
});
afterAll(() => berth.close());

describe("GET /repositories", () => {
  it("lists every repository for system admins, paged, with Harbor's name filter", async () => {
    const response = await admin.fetch("/api/v2.0/repositories?page_size=2&sort=name");
    expect(response.headers.get("x-total-count")).toBe("4");
    expect(await names(response)).toEqual(["closed/api", "closed/tools/lint"]);
    expect(response.headers.get("link")).toContain('rel="next"');
    expect(await names(await admin.fetch("/api/v2.0/repositories?q=name%3D~a&sort=name"))).toEqual(["closed/api", "hidden/vault"]);
  });

  it("shows others only what they may list: public projects and their own", async () => {
    expect(await names(await as("dev").fetch("/api/v2.0/repositories?sort=name"))).toEqual(["closed/api", "closed/tools/lint", "open/web"]);
    expect(await names(await new RegistryClient(berth.url, null).fetch("/api/v2.0/repositories"))).toEqual(["open/web"]);
  });
});

describe("PUT …/repositories/{r}", () => {
  it("sets the description (Harbor's body), for developers and up; audited", async () => {
    const path = "/api/v2.0/projects/closed/repositories/tools%252Flint";
    expect((await as("dev").fetch(path, json("PUT", { description: "the linter" }))).status).toBe(200);
    expect(await (await as("guest").fetch(path)).json()).toMatchObject({ name: "closed/tools/lint", description: "the linter" });
    expect((await as("guest").fetch(path, json("PUT", { description: "mine" }))).status).toBe(403);
    expect((await admin.fetch(path, json("PUT", { description: 7 }))).status).toBe(400);
    expect((await admin.fetch("/api/v2.0/projects/closed/repositories/nope", json("PUT", { description: "x" }))).status).toBe(404);
    const logs = (await (await admin.fetch("/api/v2.0/projects/closed/logs?q=operation%3Dupdate,resource_type%3Drepository")).json()) as { username: string }[];
    expect(logs).toEqual([expect.objectContaining({ username: "dev", resource: "closed/tools/lint" })]);
  });
});

describe("GET /projects/{p}/artifacts", () => {
  it("lists the top-level artifacts of every repository of the project", async () => {
    const response = await as("guest").fetch("/api/v2.0/projects/closed/artifacts?sort=push_time");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-total-count")).toBe("3");
    const artifacts = (await response.json()) as { id: number; repository_name: string; tags: { name: string }[] }[];
    expect(artifacts.map((a) => [a.repository_name, a.tags.map((t) => t.name)])).toEqual([
      ["closed/api", ["v1"]],
      ["closed/api", ["v2"]],
      ["closed/tools/lint", ["v1"]],
    ]);
    expect(artifacts.every((a) => Number.isInteger(a.id))).toBe(true);
  });

  it("keeps each repository's latest artifact when the query names a media or artifact type (latest_in_repository)", async () => {
    const q = encodeURIComponent(`media_type=${OCI_MANIFEST}`);
    const latest = (await (await admin.fetch(`/api/v2.0/projects/closed/artifacts?q=${q}&latest_in_repository=true&sort=push_time`)).json()) as {
      repository_name: string;
      tags: { name: string }[];
    }[];
    expect(latest.map((a) => [a.repository_name, a.tags[0].name])).toEqual([["closed/api", "v2"], ["closed/tools/lint", "v1"]]);
    // Without such a query Harbor ignores the flag.
    expect((await (await admin.fetch("/api/v2.0/projects/closed/artifacts?latest_in_repository=true")).json()) as unknown[]).toHaveLength(3);
  });

  it("needs artifact:list in the project", async () => {
    expect((await as("dev").fetch("/api/v2.0/projects/hidden/artifacts")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/projects/closed/artifacts")).status).toBe(401);
  });
});

describe("…/artifacts/{ref}/accessories", () => {
  it("shows referrers as Harbor's accessories, typed, filterable by type and paged", async () => {
    const cosign = await admin.pushReferrer("open/web", image, "application/vnd.dev.cosign.artifact.sig.v1+json", "sig");
    const sbom = await admin.pushReferrer("open/web", image, "application/vnd.cyclonedx+json", "{}");
    const other = await admin.pushReferrer("open/web", image, "application/vnd.example.thing", "thing");
    const base = "/api/v2.0/projects/open/repositories/web/artifacts/v1";
    const subject = (await (await admin.fetch(base)).json()) as { id: number };
    const response = await new RegistryClient(berth.url, null).fetch(`${base}/accessories`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-total-count")).toBe("3");
    const accessories = (await response.json()) as Record<string, unknown>[];
    expect(accessories.map((a) => [a.digest, a.type])).toEqual([
      [cosign, "signature.cosign"],
      [sbom, "harbor.sbom"],
      [other, "subject.accessory"],
    ]);
    expect(accessories[0]).toEqual({
      id: expect.any(Number),
      artifact_id: accessories[0].id,
      subject_artifact_id: subject.id,
      subject_artifact_digest: image.manifestDigest,
      subject_artifact_repo: "open/web",
      size: expect.any(Number),
      digest: cosign,
      type: "signature.cosign",
      icon: "",
      creation_time: expect.any(String),
    });
    const cosignOnly = (await (await admin.fetch(`${base}/accessories?q=type%3Dsignature.cosign`)).json()) as { digest: string }[];
    expect(cosignOnly.map((a) => a.digest)).toEqual([cosign]);
    const second = await admin.fetch(`${base}/accessories?page=2&page_size=2`);
    expect(((await second.json()) as { digest: string }[]).map((a) => a.digest)).toEqual([other]);
    expect((await admin.fetch("/api/v2.0/projects/open/repositories/web/artifacts/nope/accessories")).status).toBe(404);
  });
});
