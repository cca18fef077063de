import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

/** Harbor's small fixed catalogues: replication adapter infos and artifact-type icons. */
describe("catalogues", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  beforeAll(async () => {
    berth = await startBerth();
    admin = new RegistryClient(berth.url);
    await admin.createUser("someone", "Someone-Passw0rd");
  });
  afterAll(() => berth.close());

  it("GET /replication/adapterinfos describes each registry type Berth replicates with, for system admins", async () => {
    const infos = (await (await admin.fetch("/api/v2.0/replication/adapterinfos")).json()) as Record<string, { endpoint_pattern: { endpoint_type: string }; credential_pattern: { access_key_type: string } }>;
    const adapters = (await (await admin.fetch("/api/v2.0/replication/adapters")).json()) as string[];
    expect(Object.keys(infos).sort()).toEqual([...adapters].sort());
    expect(infos["docker-registry"]).toEqual({
      endpoint_pattern: { endpoint_type: "EndpointPatternTypeStandard", endpoints: [] },
      credential_pattern: { access_key_type: "AccessKeyTypeStandard", access_key_data: "", access_secret_type: "AccessSecretTypeStandard", access_secret_data: "" },
    });
    expect((await new RegistryClient(berth.url, basicAuth("someone", "Someone-Passw0rd")).fetch("/api/v2.0/replication/adapterinfos")).status).toBe(403);
  });

  it("artifacts name their type's icon, which GET /icons/{digest} serves to anyone", async () => {
    await admin.pushImage("library/app", "v1");
    const [artifact] = (await (await admin.fetch("/api/v2.0/projects/library/repositories/app/artifacts")).json()) as { icon: string }[];
    expect(artifact.icon).toMatch(/^sha256:[0-9a-f]{64}$/);
    const response = await new RegistryClient(berth.url, null).fetch(`/api/v2.0/icons/${artifact.icon}`);
    expect(response.status).toBe(200);
    const icon = (await response.json()) as { content_type: string; content: string };
    expect(icon.content_type).toBe("image/svg+xml");
    expect(Buffer.from(icon.content, "base64").toString()).toMatch(/^<svg [^>]*>.*OCI.*<\/svg>$/);
    const unknown = await admin.fetch(`/api/v2.0/icons/sha256:${"0".repeat(64)}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0].code).toBe("NOT_FOUND");
  });
});
