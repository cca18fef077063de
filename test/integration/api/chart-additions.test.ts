import { gzipSync } from "node:zlib";
import * as tarStream from "tar-stream";
import { startBerth, type TestBerth } from "../../support/berth";
import { OCI_MANIFEST, RegistryClient } from "../../support/registry-client";

/** Harbor's additions of a Helm chart stored as an OCI artifact: values.yaml, readme.md, dependencies. */
let berth: TestBerth;
let admin: RegistryClient;
const FILE_LIMIT = 4096;
const ADDITIONS = "/api/v2.0/projects/library/repositories/charts%252Fdemo/artifacts";

const CHART_YAML = `apiVersion: v2
name: demo
version: 0.1.0
dependencies:
  - name: redis
    version: 17.3.7
    repository: https://charts.bitnami.com/bitnami
    condition: redis.enabled
  - name: common
    version: 2.x.x
    repository: oci://registry.example/charts
`;
const VALUES = "replicaCount: 2\nimage:\n  repository: nginx\n";
const README = "# demo\n\nA tiny chart.\n";

/** A chart directory as Helm packages it: `<name>/…` in a gzipped tar. */
async function chartArchive(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, size: Buffer.byteLength(content) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

async function pushChart(tag: string, files: Record<string, string>): Promise<void> {
  const config = Buffer.from(JSON.stringify({ name: "demo", version: "0.1.0", apiVersion: "v2" }));
  const layer = await chartArchive(files);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: await admin.pushBlob("library/charts/demo", config), size: config.length },
    layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: await admin.pushBlob("library/charts/demo", layer), size: layer.length }],
  });
  const response = await admin.fetch(`/v2/library/charts/demo/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
  expect(response.status).toBe(201);
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_CHART_FILE_MAX_BYTES: String(FILE_LIMIT) } });
  admin = new RegistryClient(berth.url);
  await pushChart("0.1.0", {
    "demo/Chart.yaml": CHART_YAML,
    "demo/values.yaml": VALUES,
    "demo/README.md": README,
    "demo/templates/deployment.yaml": "kind: Deployment\n",
    // A subchart's files are not the chart's.
    "demo/charts/sub/values.yaml": "sub: true\n",
    "demo/charts/sub/README.md": "# sub\n",
  });
  await pushChart("bare", { "demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n" });
  await pushChart("huge", { "demo/Chart.yaml": CHART_YAML, "demo/values.yaml": `big: "${"x".repeat(FILE_LIMIT)}"\n` });
  await admin.pushImage("library/charts/demo", "image", "not-a-chart");
});
afterAll(() => berth.close());

describe("Helm chart additions", () => {
  it("shows the chart as Harbor's CHART type", async () => {
    expect(await (await admin.fetch(`${ADDITIONS}/0.1.0`)).json()).toMatchObject({ type: "CHART" });
  });

  it("serves values.yaml and readme.md from the chart's top directory", async () => {
    const values = await new RegistryClient(berth.url, null).fetch(`${ADDITIONS}/0.1.0/additions/values.yaml`);
    expect(values.status).toBe(200);
    expect(values.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await values.text()).toBe(VALUES);
    const readme = await admin.fetch(`${ADDITIONS}/0.1.0/additions/readme.md`);
    expect(readme.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(await readme.text()).toBe(README);
  });

  it("lists the dependencies Chart.yaml declares", async () => {
    const response = await admin.fetch(`${ADDITIONS}/0.1.0/additions/dependencies`);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await response.json()).toEqual([
      { name: "redis", version: "17.3.7", repository: "https://charts.bitnami.com/bitnami", condition: "redis.enabled" },
      { name: "common", version: "2.x.x", repository: "oci://registry.example/charts" },
    ]);
  });

  it("answers empty for a chart without those files, as Harbor", async () => {
    expect(await (await admin.fetch(`${ADDITIONS}/bare/additions/values.yaml`)).text()).toBe("");
    expect(await (await admin.fetch(`${ADDITIONS}/bare/additions/readme.md`)).text()).toBe("");
    expect(await (await admin.fetch(`${ADDITIONS}/bare/additions/dependencies`)).json()).toEqual([]);
  });

  it("refuses a file over BERTH_CHART_FILE_MAX_BYTES (422) and a non-chart artifact (400)", async () => {
    const huge = await admin.fetch(`${ADDITIONS}/huge/additions/values.yaml`);
    expect(huge.status).toBe(422);
    expect(((await huge.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/values\.yaml of this chart is \d+ bytes, more than the 4096/);
    expect((await admin.fetch(`${ADDITIONS}/huge/additions/dependencies`)).status).toBe(422);
    expect((await admin.fetch(`${ADDITIONS}/image/additions/values.yaml`)).status).toBe(400);
  });
});
