import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, OCI_MANIFEST, RegistryClient, type PushedImage } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

let berth: TestBerth;
let admin: RegistryClient;
let v1: PushedImage;
const PASSWORD = "Artifact-Passw0rd";
const REPOS = "/api/v2.0/projects/team/repositories";
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface Artifact {
  digest: string;
  size: number;
  push_time: string;
  pull_time: string | null;
  type: string;
  tags: { name: string; immutable: boolean }[];
  references: { child_digest: string; platform: unknown }[];
  accessories: { digest: string; artifact_type: string }[];
}

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
  await admin.createProject("team", { public: false });
  for (const [user, role] of [["dev", 2], ["keeper", 4], ["visitor", 3]] as const) {
    await admin.createUser(user, PASSWORD);
    await admin.addMember("team", user, role);
  }
  v1 = await admin.pushImage("team/app", "v1", "one");
  await admin.pushImage("team/app", "v2", "two");
  await admin.pushImage("team/tools/lint", "latest", "lint");
});
afterAll(() => berth.close());

const as = (user: string) => new RegistryClient(berth.url, basicAuth(user, PASSWORD));

describe("repositories", () => {
  it("lists the project's repositories with artifact counts, sortable and paged", async () => {
    const response = await admin.fetch(`${REPOS}?sort=-name&page_size=10`);
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("x-total-count"))).toBe(2);
    const repositories = (await response.json()) as { name: string; artifact_count: number }[];
    expect(repositories.map((r) => [r.name, r.artifact_count])).toEqual([["team/tools/lint", 1], ["team/app", 2]]);
    expect((await admin.fetch(`${REPOS}?sort=size`)).status).toBe(400);
    expect(((await (await admin.fetch(`${REPOS}?q=name%3D~lint`)).json()) as unknown[]).length).toBe(1);
  });

  it("takes nested names encoded twice, as Harbor's clients send them", async () => {
    const response = await admin.fetch(`${REPOS}/tools%252Flint`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: "team/tools/lint", artifact_count: 1 });
    expect((await admin.fetch(`${REPOS}/nothing-here`)).status).toBe(404);
  });

  it("counts pulls without slowing them (batched), and records the artifact's pull time", async () => {
    for (let i = 0; i < 3; i++) expect((await admin.fetch("/v2/team/app/manifests/v1")).status).toBe(200);
    await waitUntil(async () => ((await (await admin.fetch(`${REPOS}/app`)).json()) as { pull_count: number }).pull_count === 3, "three pulls counted");
    const artifact = (await (await admin.fetch(`${REPOS}/app/artifacts/v1`)).json()) as Artifact;
    expect(artifact.pull_time).not.toBeNull();
  });
});

describe("artifacts", () => {
  it("lists artifacts with digest, size, push time and tags", async () => {
    const response = await as("visitor").fetch(`${REPOS}/app/artifacts?sort=push_time`);
    expect(response.status).toBe(200);
    const artifacts = (await response.json()) as Artifact[];
    expect(artifacts.map((a) => a.tags.map((t) => t.name))).toEqual([["v1"], ["v2"]]);
    const first = artifacts[0];
    expect(first.digest).toBe(v1.manifestDigest);
    expect(first.type).toBe("IMAGE");
    // The manifest itself, its config and its 1 KiB layer.
    expect(first.size).toBeGreaterThan(1024);
    expect(Date.parse(first.push_time)).not.toBeNaN();
  });

  it("shows an index's children with their platforms, and referrers as accessories", async () => {
    const child = await admin.pushImage("team/multi", "amd64", "child");
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: OCI_MANIFEST, digest: child.manifestDigest, size: 300, platform: { os: "linux", architecture: "amd64" } }],
    });
    const put = await admin.fetch("/v2/team/multi/manifests/latest", { method: "PUT", headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" }, body: index });
    expect(put.status).toBe(201);
    const signature = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.signature",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 },
      layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: child.manifestDigest, size: 300 },
    });
    await admin.pushBlob("team/multi", Buffer.from("{}"));
    expect((await admin.fetch("/v2/team/multi/manifests/sig", { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: signature })).status).toBe(201);

    const latest = (await (await admin.fetch(`${REPOS}/multi/artifacts/latest`)).json()) as Artifact;
    expect(latest.type).toBe("IMAGE_INDEX");
    expect(latest.references).toEqual([{ parent_digest: latest.digest, child_digest: child.manifestDigest, platform: { os: "linux", architecture: "amd64" } }]);
    const childArtifact = (await (await admin.fetch(`${REPOS}/multi/artifacts/${child.manifestDigest}`)).json()) as Artifact;
    expect(childArtifact.accessories).toEqual([expect.objectContaining({ artifact_type: "application/vnd.example.signature" })]);
    expect(latest.size).toBeGreaterThan(childArtifact.size);
    // The repository counts what its artifact list shows: the index, not its child nor the child's signature (Harbor).
    const listed = await admin.fetch(`${REPOS}/multi/artifacts`);
    expect(((await listed.json()) as Artifact[]).map((a) => a.digest)).toEqual([latest.digest]);
    expect(listed.headers.get("x-total-count")).toBe("1");
    expect(await (await admin.fetch(`${REPOS}/multi`)).json()).toMatchObject({ artifact_count: 1 });
  });

  it("adds and removes tags; an existing tag is a conflict", async () => {
    const tags = `${REPOS}/app/artifacts/${v1.manifestDigest}/tags`;
    expect((await as("dev").fetch(tags, json("POST", { name: "stable" }))).status).toBe(201);
    expect((await admin.fetch(tags, json("POST", { name: "v2" }))).status).toBe(409);
    expect((await admin.fetch(tags, json("POST", { name: "-bad" }))).status).toBe(400);
    const listed = (await (await admin.fetch(tags)).json()) as { name: string }[];
    expect(listed.map((t) => t.name)).toEqual(["stable", "v1"]);
    expect((await admin.fetch("/v2/team/app/manifests/stable", { method: "HEAD" })).headers.get("docker-content-digest")).toBe(v1.manifestDigest);
    expect((await as("dev").fetch(`${tags}/stable`, { method: "DELETE" })).status).toBe(403);
    expect((await as("keeper").fetch(`${tags}/stable`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch("/v2/team/app/manifests/stable", { method: "HEAD" })).status).toBe(404);
  });

  it("honours immutable tag rules: 412 for deleting a protected tag or its artifact", async () => {
    const rule = await admin.fetch(
      "/api/v2.0/projects/team/immutabletagrules",
      json("POST", {
        tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "v1" }],
        scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "app" }] },
      }),
    );
    expect(rule.status).toBe(201);
    const artifact = (await (await admin.fetch(`${REPOS}/app/artifacts/v1`)).json()) as Artifact;
    expect(artifact.tags).toEqual([expect.objectContaining({ name: "v1", immutable: true })]);
    expect((await admin.fetch(`${REPOS}/app/artifacts/v1/tags/v1`, { method: "DELETE" })).status).toBe(412);
    const refused = await admin.fetch(`${REPOS}/app/artifacts/${v1.manifestDigest}`, { method: "DELETE" });
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0].code).toBe("PRECONDITION");
    expect((await admin.fetch(`${REPOS}/app`, { method: "DELETE" })).status).toBe(412);
    expect((await admin.fetch(rule.headers.get("location")!, { method: "DELETE" })).status).toBe(200);
  });

  it("deletes an artifact for maintainers (artifact:delete), not developers; audited", async () => {
    const artifact = (await (await admin.fetch(`${REPOS}/app/artifacts/v2`)).json()) as Artifact;
    expect((await as("dev").fetch(`${REPOS}/app/artifacts/v2`, { method: "DELETE" })).status).toBe(403);
    expect((await as("keeper").fetch(`${REPOS}/app/artifacts/v2`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/v2/team/app/manifests/${artifact.digest}`, { method: "HEAD" })).status).toBe(404);
    const logs = (await (await admin.fetch(`/api/v2.0/projects/team/logs?q=operation%3Ddelete,resource_type%3Dartifact`)).json()) as { username: string; resource: string }[];
    expect(logs).toContainEqual(expect.objectContaining({ username: "keeper", resource: `team/app@${artifact.digest}` }));
  });

  it("deletes a whole repository", async () => {
    expect((await as("keeper").fetch(`${REPOS}/tools%252Flint`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`${REPOS}/tools%252Flint`)).status).toBe(404);
    expect((await admin.fetch("/v2/team/tools/lint/manifests/latest", { method: "HEAD" })).status).toBe(404);
  });

  it("keeps private projects private", async () => {
    expect((await fetch(`${berth.url}${REPOS}`)).status).toBe(401);
    await admin.createUser("stranger", PASSWORD);
    expect((await as("stranger").fetch(`${REPOS}/app/artifacts`)).status).toBe(403);
  });
});

describe("the artifact page: config, build history and manifest through /api", () => {
  const HISTORY = [
    { created: "2026-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:abc in / ", comment: "base" },
    { created: "2026-01-02T00:00:00Z", created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true, unknown: "dropped" },
  ];
  let built: PushedImage;

  beforeAll(async () => {
    built = await admin.pushImage("team/built", "v1", "built", 1024, {
      created: "2026-01-02T00:00:00Z",
      author: "builder",
      variant: "v8",
      config: { Env: ["PATH=/usr/bin"], Cmd: ["sh"] },
      history: HISTORY,
    });
  });

  it("shows the image config's platform, author and container config as extra_attrs on one artifact", async () => {
    const artifact = (await (await as("visitor").fetch(`${REPOS}/built/artifacts/v1`)).json()) as { extra_attrs: Record<string, unknown> };
    expect(artifact.extra_attrs).toEqual({
      architecture: "amd64",
      os: "linux",
      variant: "v8",
      created: "2026-01-02T00:00:00Z",
      author: "builder",
      config: { Env: ["PATH=/usr/bin"], Cmd: ["sh"] },
    });
  });

  it("answers Harbor's build_history addition from the config's history", async () => {
    const response = await as("visitor").fetch(`${REPOS}/built/artifacts/v1/additions/build_history`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([HISTORY[0], { created: HISTORY[1].created, created_by: HISTORY[1].created_by, empty_layer: true }]);
    // An image without history has an empty one; an index has none (400, as Harbor).
    expect(await (await admin.fetch(`${REPOS}/app/artifacts/${v1.manifestDigest}/additions/build_history`)).json()).toEqual([]);
    const child = await admin.pushImage("team/built", "child", "child");
    await admin.pushIndex("team/built", "multi", [child]);
    const index = await admin.fetch(`${REPOS}/built/artifacts/multi/additions/build_history`);
    expect(index.status).toBe(400);
    expect(((await (await admin.fetch(`${REPOS}/built/artifacts/multi`)).json()) as { extra_attrs: unknown }).extra_attrs).toEqual({});
  });

  it("serves the manifest as /v2 would (Berth's manifest addition), layers with their sizes", async () => {
    const response = await as("visitor").fetch(`${REPOS}/built/artifacts/v1/additions/manifest`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(response.headers.get("docker-content-digest")).toBe(built.manifestDigest);
    const manifest = (await response.json()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    expect(manifest.config.digest).toBe(built.configDigest);
    expect(manifest.layers).toEqual([expect.objectContaining({ digest: built.layerDigest, size: 1024 })]);
  });

  it("keeps additions to those who may read the artifact", async () => {
    await admin.createUser("nosy", PASSWORD);
    for (const addition of ["build_history", "manifest"]) {
      expect((await as("nosy").fetch(`${REPOS}/built/artifacts/v1/additions/${addition}`)).status).toBe(403);
      expect((await fetch(`${berth.url}${REPOS}/built/artifacts/v1/additions/${addition}`)).status).toBe(401);
      expect((await admin.fetch(`${REPOS}/built/artifacts/nope/additions/${addition}`)).status).toBe(404);
    }
  });
});
