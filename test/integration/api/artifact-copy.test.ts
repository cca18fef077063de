import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { RECEIVERS_ON_LOOPBACK, ADMIN_CREDS, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient, type PushedImage } from "../../support/registry-client";
import { inspect } from "../../support/skopeo";
import { testIf, toolAvailability } from "../../support/tools";
import { waitUntil } from "../../support/wait";

/** Harbor's artifact copy (promotion between projects): POST /projects/{p}/repositories/{r}/artifacts?from=… */
let berth: TestBerth;
let admin: RegistryClient;
let v1: PushedImage;
let hook: Server;
const hooked: { type: string; event_data: { resources: { digest: string; tag: string }[]; repository: { repo_full_name: string } } }[] = [];
const PASSWORD = "Copy-Passw0rd-1";
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const as = (user: string) => new RegistryClient(berth.url, basicAuth(user, PASSWORD));
const copyInto = (client: RegistryClient, target: string, from: string) =>
  client.fetch(`/api/v2.0/projects/${target.split("/")[0]}/repositories/${encodeURIComponent(encodeURIComponent(target.slice(target.indexOf("/") + 1)))}/artifacts?from=${encodeURIComponent(from)}`, {
    method: "POST",
  });

beforeAll(async () => {
  hook = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      hooked.push(JSON.parse(body));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  berth = await startBerth({ env: RECEIVERS_ON_LOOPBACK });
  admin = new RegistryClient(berth.url);
  for (const project of ["dev", "prod", "secret"]) await admin.createProject(project, { public: false });
  await admin.createUser("promoter", PASSWORD);
  await admin.addMember("dev", "promoter", 3); // guest: may pull
  await admin.addMember("prod", "promoter", 2); // developer: may create artifacts
  await admin.createUser("reader", PASSWORD);
  await admin.addMember("dev", "reader", 3);
  await admin.addMember("prod", "reader", 3);
  v1 = await admin.pushImage("dev/app", "v1", "one");
  expect((await admin.fetch(`/api/v2.0/projects/dev/repositories/app/artifacts/v1/tags`, json("POST", { name: "stable" }))).status).toBe(201);
  const address = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const policy = { name: "pushes", event_types: ["PUSH_ARTIFACT"], targets: [{ type: "http", address }] };
  expect((await admin.fetch("/api/v2.0/projects/prod/webhook/policies", json("POST", policy))).status).toBe(201);
});
afterAll(async () => {
  await berth.close();
  hook.closeAllConnections();
  await new Promise((resolve) => hook.close(resolve));
});

describe("copying an artifact into another project", () => {
  it("copies by tag: 201 with the new artifact's Location, the source's tags kept, blobs linked not uploaded", async () => {
    const response = await copyInto(as("promoter"), "prod/app", "dev/app:v1");
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe(`/api/v2.0/projects/prod/repositories/app/artifacts/${v1.manifestDigest}`);
    const artifact = (await (await admin.fetch(response.headers.get("location")!)).json()) as { digest: string; tags: { name: string }[] };
    expect(artifact.digest).toBe(v1.manifestDigest);
    // As Harbor: every tag of the copied artifact comes along (the one `from` named among them).
    expect(artifact.tags.map((t) => t.name)).toEqual(["stable", "v1"]);
    for (const blob of [v1.configDigest, v1.layerDigest]) expect(await admin.pulledDigest("prod/app", blob)).toBe(blob);
    expect(await admin.digestOf("prod/app", "v1")).toBe(v1.manifestDigest);
  });

  it("is audited and announced to webhooks as a push", async () => {
    const logs = (await (await admin.fetch("/api/v2.0/projects/prod/logs?q=operation%3Dcreate,resource_type%3Dartifact")).json()) as {
      username: string;
      resource: string;
    }[];
    expect(logs).toContainEqual(expect.objectContaining({ username: "promoter", resource: `prod/app@${v1.manifestDigest}` }));
    await waitUntil(() => hooked.length > 0, "the PUSH_ARTIFACT webhook");
    expect(hooked[0].type).toBe("PUSH_ARTIFACT");
    expect(hooked[0].event_data.repository.repo_full_name).toBe("prod/app");
    expect(hooked[0].event_data.resources.map((r) => [r.digest, r.tag])).toEqual([[v1.manifestDigest, "stable"], [v1.manifestDigest, "v1"]]);
  });

  it("answers 409 when the target already holds the artifact", async () => {
    const response = await copyInto(admin, "prod/app", `dev/app@${v1.manifestDigest}`);
    expect(response.status).toBe(409);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0].code).toBe("CONFLICT");
  });

  it("copies an index by digest with its children and their accessories, into a nested repository", async () => {
    const amd = await admin.pushImage("dev/multi", "amd", "amd");
    const arm = await admin.pushImage("dev/multi", "arm", "arm");
    await admin.pushIndex("dev/multi", "1.0", [amd, arm]);
    const indexDigest = (await admin.digestOf("dev/multi", "1.0"))!;
    const signature = await admin.pushReferrer("dev/multi", amd, "application/vnd.dev.cosign.artifact.sig.v1+json", "signed");
    const response = await copyInto(admin, "prod/team/multi", `dev/multi@${indexDigest}`);
    expect(response.status).toBe(201);
    const copied = (await (await admin.fetch(`/api/v2.0/projects/prod/repositories/team%252Fmulti/artifacts/${indexDigest}`)).json()) as {
      type: string;
      tags: { name: string }[];
      references: { child_digest: string }[];
    };
    expect(copied.type).toBe("IMAGE_INDEX");
    expect(copied.tags.map((t) => t.name)).toEqual(["1.0"]);
    expect(copied.references.map((r) => r.child_digest).sort()).toEqual([amd.manifestDigest, arm.manifestDigest].sort());
    const referrers = (await (await admin.fetch(`/v2/prod/team/multi/referrers/${amd.manifestDigest}`)).json()) as { manifests: { digest: string }[] };
    expect(referrers.manifests.map((m) => m.digest)).toEqual([signature]);
    // The children came without their own tags: only the copied artifact's tags are kept (Harbor).
    expect(await admin.digestOf("prod/team/multi", "amd")).toBeNull();
  });

  it("needs pull on the source and artifact:create on the target", async () => {
    await admin.pushImage("secret/app", "v1", "secret");
    expect((await copyInto(as("promoter"), "prod/other", "secret/app:v1")).status).toBe(403);
    expect((await copyInto(as("reader"), "prod/other", "dev/app:v1")).status).toBe(403);
    expect((await copyInto(new RegistryClient(berth.url, null), "prod/other", "dev/app:v1")).status).toBe(401);
    expect((await copyInto(admin, "prod/other", "dev/app:nope")).status).toBe(404);
    expect((await copyInto(admin, "prod/other", "nowhere/app:v1")).status).toBe(404);
    for (const bad of ["dev/app", "app:v1", "dev/app@sha256:short", "dev/app:-bad"]) expect((await copyInto(admin, "prod/other", bad)).status).toBe(400);
  });

  it("will not move an immutable tag of the target (412)", async () => {
    await admin.pushImage("prod/locked", "v1", "already-there");
    const rule = {
      tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "v1" }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "locked" }] },
    };
    expect((await admin.fetch("/api/v2.0/projects/prod/immutabletagrules", json("POST", rule))).status).toBe(201);
    const response = await copyInto(admin, "prod/locked", "dev/app:v1");
    expect(response.status).toBe(412);
    expect(await admin.digestOf("prod/locked", `${v1.manifestDigest}`)).toBeNull();
  });

  it("applies the source project's pull policy: an image prevent_vul refuses to pull is not copied either (412)", async () => {
    await admin.createProject("guarded", { public: false });
    const image = await admin.pushImage("guarded/app", "v1", "guarded");
    const metadata = json("PUT", { metadata: { prevent_vul: "true", severity: "critical" } });
    expect((await admin.fetch("/api/v2.0/projects/guarded", metadata)).status).toBe(200);
    // Never scanned: a pull is refused, and so is a copy.
    expect((await admin.fetch("/v2/guarded/app/manifests/v1")).status).toBe(412);
    const refused = await copyInto(admin, "prod/from-guarded", "guarded/app:v1");
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/pull policy applies to copies/);
    expect(await admin.digestOf("prod/from-guarded", image.manifestDigest)).toBeNull();
  });

  it("counts the blobs the target project does not hold against its quota", async () => {
    await admin.createProject("small", { public: false });
    const big = await admin.pushImage("dev/big", "v1", "big", 64 * 1024);
    const { project_id } = (await (await admin.fetch("/api/v2.0/projects/small")).json()) as { project_id: number };
    const quotas = (await (await admin.fetch(`/api/v2.0/quotas?reference_id=${project_id}`)).json()) as { id: number }[];
    expect((await admin.fetch(`/api/v2.0/quotas/${quotas[0].id}`, json("PUT", { hard: { storage: 1024 } }))).status).toBe(200);
    const refused = await copyInto(admin, "small/big", "dev/big:v1");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/exceed the configured upper limit/);
    expect(await admin.digestOf("small/big", big.manifestDigest)).toBeNull();
  });

  testIf(toolAvailability("skopeo").mode === "run", "skopeo")("leaves an image skopeo reads from the target", async () => {
    const result = await inspect(`docker://${berth.host}/prod/app:stable`, { creds: ADMIN_CREDS, tls: "off" });
    expect(result.Digest).toBe(v1.manifestDigest);
  });
});
