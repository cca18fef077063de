import { adapterAuthHeaders, readReport, scansInto } from "../../../../registry/scanning/adapter/adapter-client";
import { AdapterRequestError, normalizedMediaType, parseScanRequest } from "../../../../registry/scanning/adapter/protocol";

const DIGEST = `sha256:${"a".repeat(64)}`;
const valid = {
  registry: { url: "https://harbor.example.com", authorization: "Bearer abc" },
  artifact: { repository: "library/mongo", digest: DIGEST, tag: "4.4", mime_type: "application/vnd.docker.distribution.manifest.v2+json", size: 1, namespace_id: 0 },
  enabled_capabilities: [{ type: "vulnerability" }],
};

function statusOf(body: unknown): number | null {
  try {
    parseScanRequest(body);
    return null;
  } catch (error) {
    return error instanceof AdapterRequestError ? error.status : -1;
  }
}

describe("parseScanRequest", () => {
  it("reads Harbor's scan request, ignoring fields the spec does not name", () => {
    expect(parseScanRequest(valid)).toEqual({
      registry: { url: "https://harbor.example.com", authorization: "Bearer abc" },
      artifact: { repository: "library/mongo", digest: DIGEST, tag: "4.4", mime_type: "application/vnd.docker.distribution.manifest.v2+json" },
    });
  });

  it("answers 400 for a body that is not an object and 422 for a missing or invalid field", () => {
    expect(statusOf("scan")).toBe(400);
    expect(statusOf([])).toBe(400);
    expect(statusOf({ registry: valid.registry })).toBe(422);
    expect(statusOf({ ...valid, registry: { url: "file:///etc/passwd" } })).toBe(422);
    expect(statusOf({ ...valid, registry: { url: "https://x", authorization: "Bearer a\r\nX-Injected: 1" } })).toBe(422);
    expect(statusOf({ ...valid, artifact: { ...valid.artifact, repository: "../etc" } })).toBe(422);
    expect(statusOf({ ...valid, artifact: { ...valid.artifact, digest: "sha256:short" } })).toBe(422);
  });
});

describe("the adapter client's pieces", () => {
  it("compares media types without regard to spacing and case", () => {
    expect(normalizedMediaType("application/vnd.security.vulnerability.report; version=1.1")).toBe(normalizedMediaType("Application/vnd.security.vulnerability.report;version=1.1"));
  });

  it("sends a registration's credential the way its auth type says", () => {
    expect(adapterAuthHeaders({ auth: "", access_credential: "" })).toEqual({});
    expect(adapterAuthHeaders({ auth: "Basic", access_credential: "u:p" })).toEqual({ Authorization: `Basic ${Buffer.from("u:p").toString("base64")}` });
    expect(adapterAuthHeaders({ auth: "Bearer", access_credential: "t" })).toEqual({ Authorization: "Bearer t" });
    expect(adapterAuthHeaders({ auth: "X-ScannerAdapter-API-Key", access_credential: "k" })).toEqual({ "X-ScannerAdapter-API-Key": "k" });
  });

  it("knows an adapter that scans images into the 1.1 report (a capability without type is a vulnerability one)", () => {
    const metadata = {
      scanner: { name: "Trivy", vendor: "Aqua", version: "1" },
      capabilities: [{ consumes_mime_types: ["application/vnd.oci.image.manifest.v1+json"], produces_mime_types: ["application/vnd.security.vulnerability.report;version=1.1"] }],
    };
    expect(scansInto(metadata, "application/vnd.oci.image.manifest.v1+json")).toBe(true);
    expect(scansInto(metadata, "application/vnd.docker.distribution.manifest.v2+json")).toBe(false);
    expect(scansInto({ ...metadata, capabilities: [{ ...metadata.capabilities[0], type: "sbom" }] }, "application/vnd.oci.image.manifest.v1+json")).toBe(false);
  });

  it("keeps an adapter's report to Harbor's fields, with its own artifact, unknown severities as Unknown and the overall severity recomputed", () => {
    const artifact = { repository: "p/app", digest: DIGEST, mime_type: "application/vnd.oci.image.manifest.v1+json" };
    const report = readReport(
      {
        generated_at: "2026-01-01T00:00:00Z",
        artifact: { repository: "elsewhere", digest: "sha256:other" },
        scanner: { name: "Trivy", vendor: "Aqua", version: "0.50" },
        severity: "Low",
        vulnerabilities: [
          { id: "CVE-1", package: "a", version: "1", fix_version: "2", severity: "High", links: ["https://x", 3] },
          { id: "CVE-2", package: "b", version: "1", severity: "Dreadful" },
        ],
      },
      artifact,
    );
    expect(report).toMatchObject({ artifact, severity: "High", scanner: { name: "Trivy" } });
    expect(report!.vulnerabilities.map((v) => [v.id, v.severity, v.fix_version, v.links])).toEqual([
      ["CVE-1", "High", "2", ["https://x"]],
      ["CVE-2", "Unknown", "", []],
    ]);
    expect(readReport({ vulnerabilities: [{ package: "a" }] }, artifact)).toBeNull();
    expect(readReport({}, artifact)).toBeNull();
  });
});
