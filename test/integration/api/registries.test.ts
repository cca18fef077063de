import { startBerth, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../../support/berth";
import { freePort, startReferenceRegistry, type ReferenceRegistry } from "../../support/reference-registry";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { describeWithTool } from "../../support/tools";
import { waitUntil } from "../../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface Endpoint {
  id: number;
  name: string;
  status: string;
  status_message: string;
  credential: { access_key: string; access_secret: string };
}

describeWithTool("docker-registry", "registry endpoints API", () => {
  let berth: TestBerth;
  let upstream: ReferenceRegistry;
  let admin: RegistryClient;

  beforeAll(async () => {
    [berth, upstream] = await Promise.all([startBerth({ env: RECEIVERS_ON_LOOPBACK }), startReferenceRegistry()]);
    admin = new RegistryClient(berth.url);
  });
  afterAll(async () => {
    await Promise.all([berth?.close(), upstream?.stop()]);
  });

  const status = async (location: string, wanted: string) => {
    let endpoint: Endpoint | undefined;
    await waitUntil(async () => {
      endpoint = (await (await admin.fetch(location)).json()) as Endpoint;
      return endpoint.status === wanted;
    }, `the endpoint to be ${wanted}`);
    return endpoint!;
  };

  it("saves an endpoint, checks its health in the background and never shows the secret", async () => {
    const created = await admin.fetch(
      "/api/v2.0/registries",
      json("POST", { name: "upstream", type: "docker-registry", url: upstream.url, credential: { type: "basic", access_key: "bot", access_secret: "Hidden-Secret-1" } }),
    );
    expect(created.status).toBe(201);
    const location = created.headers.get("location")!;
    const endpoint = await status(location, "healthy");
    expect(endpoint.credential).toEqual({ type: "basic", access_key: "bot", access_secret: "*****" });
    const listed = await admin.fetch("/api/v2.0/registries?q=name%3D~up");
    expect(await listed.text()).not.toContain("Hidden-Secret-1");
    expect((await admin.fetch("/api/v2.0/registries", json("POST", { name: "upstream", url: upstream.url }))).status).toBe(409);
  });

  it("saves an unreachable endpoint too, marked unhealthy with the reason", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const created = await admin.fetch("/api/v2.0/registries", json("POST", { name: "down", url: closed }));
    expect(created.status).toBe(201);
    const endpoint = await status(created.headers.get("location")!, "unhealthy");
    expect(endpoint.status_message).toBe(`${closed}: GET /v2/ failed: ECONNREFUSED`);
    // Pointing it somewhere that answers heals it.
    expect((await admin.fetch(created.headers.get("location")!, json("PUT", { url: upstream.url }))).status).toBe(200);
    await status(created.headers.get("location")!, "healthy");
  });

  it("pings saved and unsaved endpoints, saying what failed", async () => {
    expect((await admin.fetch("/api/v2.0/registries/ping", json("POST", { url: upstream.url }))).status).toBe(200);
    const refused = await admin.fetch("/api/v2.0/registries/ping", json("POST", { url: `http://127.0.0.1:${await freePort()}` }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/the registry is unhealthy: .*ECONNREFUSED/);
  });

  it("verifies TLS certificates unless the endpoint is marked insecure", async () => {
    const https = await startReferenceRegistry({ tls: true });
    try {
      const refused = await admin.fetch("/api/v2.0/registries/ping", json("POST", { url: https.url }));
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(/the registry is unhealthy: .*(SELF_SIGNED|self.signed|CERT)/i);
      expect((await admin.fetch("/api/v2.0/registries/ping", json("POST", { url: https.url, insecure: true }))).status).toBe(200);
      const created = await admin.fetch("/api/v2.0/registries", json("POST", { name: "self-signed", url: https.url, insecure: true }));
      expect((await status(created.headers.get("location")!, "healthy")).status).toBe("healthy");
    } finally {
      await https.stop();
    }
  });

  it("refuses bad input with 400 and non-admins with 403", async () => {
    for (const body of [{ name: "x", url: "ftp://host" }, { name: "", url: upstream.url }, { name: "x", url: upstream.url, type: "quay" }]) {
      expect((await admin.fetch("/api/v2.0/registries", json("POST", body))).status).toBe(400);
    }
    await admin.createUser("someone", "Someone-Passw0rd");
    const someone = new RegistryClient(berth.url, basicAuth("someone", "Someone-Passw0rd"));
    expect((await someone.fetch("/api/v2.0/registries")).status).toBe(403);
    expect((await fetch(`${berth.url}/api/v2.0/registries`)).status).toBe(401);
  });

  it("takes an update that sends the secret back masked, describes the endpoint, and deletes it", async () => {
    const [endpoint] = ((await (await admin.fetch("/api/v2.0/registries?q=name%3Dupstream")).json()) as Endpoint[]);
    expect((await admin.fetch(`/api/v2.0/registries/${endpoint.id}`, json("PUT", { description: "mirror source", access_secret: "*****" }))).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/registries/${endpoint.id}/info`)).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/registries/${endpoint.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/registries/${endpoint.id}`)).status).toBe(404);
  });
});
