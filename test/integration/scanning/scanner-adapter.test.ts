import { Client } from "pg";
import { ADMIN_AUTH, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { buildLayer, sha256Digest, type Layer } from "../../support/oci-image";
import { RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

const REPORT = "application/vnd.security.vulnerability.report; version=1.1";
const ADAPTER_ERROR = "application/vnd.scanner.adapter.error+json; version=1.0";
const SCAN_REQUEST = "application/vnd.scanner.adapter.scan.request+json; version=1.1";
const JSON_HEADERS = { "Content-Type": "application/json" };
const API_KEY = "adapter-key-0123456789abcdef";
const HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
const MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N";

const DPKG_STATUS = [
  "Package: libfoo1\nStatus: install ok installed\nSource: foo\nVersion: 1.0-1\nArchitecture: amd64\n",
  "Package: foo-tools\nStatus: install ok installed\nSource: foo\nVersion: 1.0-1\nArchitecture: amd64\n",
  "Package: bar\nStatus: install ok installed\nVersion: 2.0-1\nArchitecture: amd64\n",
].join("\n");
const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

function osvRecord(id: string, alias: string, ecosystem: string, name: string, fixed: string, vector: string) {
  return {
    schema_version: "1.6.0",
    id,
    aliases: [alias],
    modified: "2026-11-01T00:00:00Z",
    summary: `${alias} in ${name}`,
    severity: [{ type: "CVSS_V3", score: vector }],
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] }],
  };
}

interface Vulnerability {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: string;
}

/** What two reports must agree on, in a stable order. */
const findings = (vulnerabilities: Vulnerability[]) =>
  vulnerabilities.map(({ id, package: pkg, version, fix_version, severity }) => ({ id, package: pkg, version, fix_version, severity })).sort((a, b) =>
    `${a.id} ${a.package}`.localeCompare(`${b.id} ${b.package}`),
  );

/**
 * Berth as a Harbor scanner adapter and as Harbor's adapter client: the adapter API (/scanner/api/v1) guarded by
 * an API key, scanner registrations, a project scanning through a registration of Berth's own adapter endpoint
 * (pulled with the scanner's pull-only token, past the project's pull policy), and the reports compared with the
 * embedded scanner's.
 */
describe("scanner adapter API and scanner registrations", () => {
  let berth: TestBerth;
  let admin: RegistryClient;
  let image: { digest: string; mediaType: string };
  let embedded: Vulnerability[];
  /** Every /api answer that could carry a registration, to check no secret comes back. */
  const answers: string[] = [];

  const adapter = (path: string, init: RequestInit & { auth?: Record<string, string> } = {}) =>
    fetch(`${berth.url}/scanner/api/v1${path}`, { ...init, headers: { ...init.auth, ...(init.headers as Record<string, string>) }, redirect: "manual" });
  const withKey = { "X-ScannerAdapter-API-Key": API_KEY };
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await admin.fetch(`/api/v2.0${path}`, init);
    answers.push(await response.clone().text());
    return response;
  };
  const register = (body: Record<string, unknown>) => api("/scanners", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
  const errorOf = async (response: Response) => ({ status: response.status, ...((await response.json()) as { errors: Array<{ code: string; message: string }> }).errors[0] });

  /** Pushes an OCI image of `layers` to `repository:tag` over /v2. */
  async function pushImage(repository: string, tag: string, layers: Layer[]) {
    for (const layer of layers) await admin.pushBlob(repository, layer.bytes);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) } }));
    await admin.pushBlob(repository, config);
    const mediaType = "application/vnd.oci.image.manifest.v1+json";
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: l.digest, size: l.size })),
      }),
    );
    const response = await admin.fetch(`/v2/${repository}/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": mediaType }, body: manifest });
    expect(response.status).toBe(201);
    return { digest: sha256Digest(manifest), mediaType };
  }

  const overview = async () => {
    const response = await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1?with_scan_overview=true");
    return ((await response.json()) as { scan_overview?: Record<string, { scan_status: string; scanner: { name: string }; report_id: string }> }).scan_overview?.[REPORT];
  };
  const vulnerabilities = async () => {
    const response = await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/additions/vulnerabilities");
    return ((await response.json()) as Record<string, { vulnerabilities: Vulnerability[] }>)[REPORT]?.vulnerabilities ?? null;
  };

  beforeAll(async () => {
    berth = await startBerth({ env: { ...RECEIVERS_ON_LOOPBACK, BERTH_SCANNER_API_KEY: API_KEY } });
    admin = new RegistryClient(berth.url);
    await admin.createProject("sec", { public: false });
    const imported = await admin.fetch("/api/v2.0/vulndb/import?source=test", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify([
        osvRecord("DEBIAN-CVE-2099-0101", "CVE-2099-0101", "Debian:12", "foo", "1.0-2", HIGH),
        osvRecord("GHSA-berth-0102", "CVE-2099-0102", "npm", "leftpad", "1.0.1", MEDIUM),
      ]),
    });
    expect(imported.status).toBeLessThan(300);
    const base = await buildLayer({ "etc/os-release": OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS });
    const app = await buildLayer({ "app/node_modules/leftpad/package.json": JSON.stringify({ name: "leftpad", version: "1.0.0" }) });
    image = await pushImage("sec/app", "1", [base, app]);
    // The embedded scanner's report of the image: what every other path must reproduce.
    expect((await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/scan", { method: "POST" })).status).toBe(202);
    await waitUntil(async () => (await overview())?.scan_status === "Success", "the embedded scan finished");
    embedded = (await vulnerabilities())!;
    expect(findings(embedded)).toEqual([
      { id: "CVE-2099-0101", package: "foo-tools", version: "1.0-1", fix_version: "1.0-2", severity: "High" },
      { id: "CVE-2099-0101", package: "libfoo1", version: "1.0-1", fix_version: "1.0-2", severity: "High" },
      { id: "CVE-2099-0102", package: "leftpad", version: "1.0.0", fix_version: "1.0.1", severity: "Medium" },
    ]);
  });
  afterAll(() => berth?.close());

  it("refuses callers without the API key or an administrator's credentials, in the adapter's error shape", async () => {
    const refused: Record<string, string>[] = [{}, { "X-ScannerAdapter-API-Key": "wrong" }, { Authorization: "Bearer wrong" }, { Authorization: `Basic ${Buffer.from("nobody:nothing").toString("base64")}` }];
    for (const auth of refused) {
      const response = await adapter("/metadata", { auth });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe(ADAPTER_ERROR);
      expect(await response.json()).toEqual({ error: { message: expect.any(String) } });
    }
    const scan = await adapter("/scan", { method: "POST", headers: { "Content-Type": SCAN_REQUEST }, body: "{}" });
    expect(scan.status).toBe(401);
    expect((await adapter("/metadata", { auth: withKey })).status).toBe(200);
    expect((await adapter("/metadata", { auth: { Authorization: `Bearer ${API_KEY}` } })).status).toBe(200);
    expect((await adapter("/metadata", { auth: { Authorization: ADMIN_AUTH } })).status).toBe(200);
    expect((await adapter("/nowhere", { auth: withKey })).headers.get("content-type")).toBe(ADAPTER_ERROR);
  });

  it("serves Harbor's adapter API: metadata, 202 with an id, 302 with Refresh-After until the report is ready, the same findings", async () => {
    const metadata = (await (await adapter("/metadata", { auth: withKey })).json()) as { scanner: { name: string }; capabilities: Array<{ produces_mime_types: string[] }> };
    expect(metadata.scanner.name).toBe("Berth");
    expect((await adapter("/metadata", { auth: withKey })).headers.get("content-type")).toBe("application/vnd.scanner.adapter.metadata+json; version=1.1");
    expect(metadata.capabilities[0].produces_mime_types).toContain(REPORT);
    const bad = await adapter("/scan", { method: "POST", auth: withKey, headers: { "Content-Type": SCAN_REQUEST }, body: JSON.stringify({ registry: { url: berth.url } }) });
    expect(bad.status).toBe(422);
    const submitted = await adapter("/scan", {
      method: "POST",
      auth: withKey,
      headers: { "Content-Type": SCAN_REQUEST },
      body: JSON.stringify({ registry: { url: berth.url, authorization: ADMIN_AUTH }, artifact: { repository: "sec/app", digest: image.digest, mime_type: image.mediaType } }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    let report: { vulnerabilities: Vulnerability[]; artifact: { digest: string } } | null = null;
    await waitUntil(async () => {
      const response = await adapter(`/scan/${id}/report`, { auth: withKey, headers: { Accept: REPORT } });
      if (response.status === 302) {
        expect(response.headers.get("refresh-after")).toMatch(/^\d+$/);
        return false;
      }
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(REPORT);
      report = (await response.json()) as typeof report;
      return true;
    }, "the adapter report is ready");
    expect(report!.artifact.digest).toBe(image.digest);
    expect(findings(report!.vulnerabilities)).toEqual(findings(embedded));
    expect((await adapter("/scan/00000000-0000-4000-8000-000000000000/report", { auth: withKey })).status).toBe(404);
  });

  it("reads layers it has never seen from the named registry, and fails a scan the registry refuses with the adapter's 500", async () => {
    const fresh = await buildLayer({ "etc/os-release": OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS, "etc/hostname": "fresh\n" });
    const pushed = await pushImage("sec/fresh", "1", [fresh]);
    const submit = (authorization: string) =>
      adapter("/scan", {
        method: "POST",
        auth: withKey,
        headers: { "Content-Type": SCAN_REQUEST },
        body: JSON.stringify({ registry: { url: berth.url, authorization }, artifact: { repository: "sec/fresh", digest: pushed.digest, mime_type: pushed.mediaType } }),
      });
    const poll = async (id: string) => {
      let final: Response | null = null;
      await waitUntil(async () => {
        const response = await adapter(`/scan/${id}/report`, { auth: withKey });
        if (response.status === 302) return false;
        final = response;
        return true;
      }, "the adapter scan finished");
      return final!;
    };
    const refused = await poll(((await (await submit(`Basic ${Buffer.from("nobody:nothing").toString("base64")}`)).json()) as { id: string }).id);
    expect(refused.status).toBe(500);
    expect(refused.headers.get("content-type")).toBe(ADAPTER_ERROR);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/401/);
    const scanned = await poll(((await (await submit(ADMIN_AUTH)).json()) as { id: string }).id);
    expect(scanned.status).toBe(200);
    const report = (await scanned.json()) as { vulnerabilities: Vulnerability[] };
    expect(findings(report.vulnerabilities)).toEqual(findings(embedded).filter((v) => v.package !== "leftpad"));
  });

  it("refuses bad registrations with Harbor's 400s, a duplicate with 409, and cloud metadata addresses", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: `${berth.url}/scanner` }, /name is required/],
      [{ name: "x" }, /url is required/],
      [{ name: "x", url: "ftp://example.com" }, /http/],
      [{ name: "x", url: "not a url" }, /not a valid URL/],
      [{ name: "x", url: `${berth.url}/scanner`, auth: "Digest", access_credential: "a" }, /auth "Digest" is not supported/],
      [{ name: "x", url: `${berth.url}/scanner`, auth: "Bearer" }, /access_credential is required/],
      [{ name: "x", url: `${berth.url}/scanner`, disabled: "no" }, /disabled must be a boolean/],
      [{ name: "x", url: "http://169.254.169.254/latest" }, /link-local address \(cloud metadata\)/],
    ];
    for (const [body, message] of cases) {
      const error = await errorOf(await register(body));
      expect(error).toMatchObject({ status: 400, code: "BAD_REQUEST" });
      expect(error.message).toMatch(message);
    }
    expect((await register({ name: "dup", url: `${berth.url}/scanner/a` })).status).toBe(201);
    expect(await errorOf(await register({ name: "dup", url: `${berth.url}/scanner/b` }))).toMatchObject({ status: 409, code: "CONFLICT" });
    expect((await api("/scanners/berth-embedded", { method: "DELETE" })).status).toBe(403);
  });

  it("scans through a registration of its own adapter URL, past prevent_vul, into the same report as the embedded scanner", async () => {
    const created = await register({ name: "berth-self", description: "this registry's adapter", url: `${berth.url}/scanner`, auth: "X-ScannerAdapter-API-Key", access_credential: API_KEY });
    expect(created.status).toBe(201);
    const uuid = created.headers.get("location")!.split("/").pop()!;
    const registration = await (await api(`/scanners/${uuid}`)).json();
    expect(registration).toMatchObject({ uuid, name: "berth-self", url: `${berth.url}/scanner`, auth: "X-ScannerAdapter-API-Key", is_default: false });
    expect(registration).not.toHaveProperty("access_credential");
    if (berth.databaseUrl) {
      const db = new Client({ connectionString: berth.databaseUrl });
      await db.connect();
      const { rows } = await db.query<{ access_credential: string }>("SELECT access_credential FROM scanner_registrations WHERE uuid = $1", [uuid]);
      await db.end();
      // Sealed at rest, like registry passwords.
      expect(rows[0].access_credential).toMatch(/^enc:v1:/);
      expect(rows[0].access_credential).not.toContain(API_KEY);
    }
    expect((await api("/scanners/ping", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ url: `${berth.url}/scanner`, auth: "X-ScannerAdapter-API-Key", access_credential: API_KEY }) })).status).toBe(200);
    expect(await errorOf(await api("/scanners/ping", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ url: `${berth.url}/scanner` }) }))).toMatchObject({ status: 400 });
    expect(await (await api(`/scanners/${uuid}/metadata`)).json()).toMatchObject({ scanner: { name: "Berth" } });

    expect((await api("/projects/sec/scanner", { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ uuid }) })).status).toBe(200);
    expect(await (await api("/projects/sec/scanner")).json()).toMatchObject({ uuid });
    // The new scanner has no report yet: with prevent_vul the image is refused to everyone but the scanner itself.
    expect((await api("/projects/sec", { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ metadata: { prevent_vul: "true", severity: "critical" } }) })).status).toBe(200);
    expect(await overview()).toBeUndefined();
    expect((await admin.fetch("/v2/sec/app/manifests/1", { headers: { Accept: image.mediaType } })).status).toBe(412);

    expect((await admin.fetch("/api/v2.0/projects/sec/repositories/app/artifacts/1/scan", { method: "POST" })).status).toBe(202);
    await waitUntil(async () => ["Success", "Error"].includes((await overview())?.scan_status ?? ""), "the scan through the registered adapter finished");
    expect(await overview()).toMatchObject({ scan_status: "Success", scanner: { name: "Berth" } });
    expect(findings((await vulnerabilities())!)).toEqual(findings(embedded));
    // High findings under a critical threshold: pulls go ahead again.
    expect((await admin.fetch("/v2/sec/app/manifests/1", { headers: { Accept: image.mediaType } })).status).toBe(200);

    // Back to the embedded scanner: its own report is still there.
    expect((await api(`/scanners/${uuid}`, { method: "PATCH", headers: JSON_HEADERS, body: '{"is_default":true}' })).status).toBe(200);
    expect(((await (await api("/scanners")).json()) as Array<{ uuid: string; is_default: boolean }>).find((s) => s.is_default)?.uuid).toBe(uuid);
    expect((await api(`/scanners/${uuid}`, { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ description: "changed" }) })).status).toBe(200);
    expect(await (await api(`/scanners/${uuid}`)).json()).toMatchObject({ description: "changed", auth: "X-ScannerAdapter-API-Key" });
    expect((await api("/projects/sec/scanner", { method: "PUT", headers: JSON_HEADERS, body: '{"uuid":"berth-embedded"}' })).status).toBe(200);
    expect(await overview()).toMatchObject({ scan_status: "Success", scanner: { name: "Berth" } });
    expect((await api(`/scanners/${uuid}`, { method: "DELETE" })).status).toBe(200);
    expect((await api(`/scanners/${uuid}`)).status).toBe(404);
  });

  it("never returns a registration's secret", () => {
    expect(answers.length).toBeGreaterThan(5);
    for (const answer of answers) expect(answer).not.toContain(API_KEY);
  });
});
