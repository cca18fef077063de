import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OutboundGuard } from "../../../../registry/outbound/address-guard";
import { AdapterClient, AdapterError } from "../../../../registry/scanning/adapter/adapter-client";

const DIGEST = `sha256:${"b".repeat(64)}`;
const REQUEST = {
  registry: { url: "https://berth.example.com", authorization: "Bearer t" },
  artifact: { repository: "p/app", digest: DIGEST, mime_type: "application/vnd.oci.image.manifest.v1+json" },
};
const REPORT = { scanner: { name: "Fake", vendor: "Test", version: "1" }, vulnerabilities: [{ id: "CVE-1", package: "a", version: "1", fix_version: "2", severity: "Low" }] };

/** A fake adapter on loopback answering with `handler`; the requests it saw. */
async function fakeAdapter(handler: (request: IncomingMessage, response: ServerResponse, seen: number) => void) {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ method: request.method!, url: request.url!, headers: request.headers, body });
      handler(request, response, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/adapter`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const client = (options: { reportMaxBytes?: number; timeoutMs?: number; allow?: string[] } = {}) =>
  new AdapterClient({
    guard: new OutboundGuard({ deny: [], allow: options.allow ?? ["127.0.0.0/8"], own: () => [] }),
    self: { url: () => "http://unused" },
    timeoutMs: options.timeoutMs ?? 10_000,
    reportMaxBytes: options.reportMaxBytes ?? 1024 * 1024,
    firstPollMs: 1,
  });

describe("the adapter client", () => {
  it("submits with the registration's credential, follows 302 Refresh-After and reads the report", async () => {
    const adapter = await fakeAdapter((request, response, n) => {
      if (request.method === "POST") return void response.writeHead(202, { "Content-Type": "application/json" }).end('{"id":"scan-1"}');
      if (n < 3) return void response.writeHead(302, { "Refresh-After": "1", Location: request.url }).end();
      response.writeHead(200, { "Content-Type": "application/vnd.security.vulnerability.report; version=1.1" }).end(JSON.stringify(REPORT));
    });
    try {
      const endpoint = { url: adapter.url, auth: "X-ScannerAdapter-API-Key" as const, access_credential: "key", skip_cert_verify: false };
      const { report, counts } = await client().scan(endpoint, REQUEST);
      expect(report).toMatchObject({ artifact: REQUEST.artifact, scanner: { name: "Fake" }, severity: "Low" });
      expect(counts).toMatchObject({ total: 1, fixable: 1 });
      expect(adapter.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
        "POST /adapter/api/v1/scan",
        "GET /adapter/api/v1/scan/scan-1/report",
        "GET /adapter/api/v1/scan/scan-1/report",
      ]);
      expect(adapter.seen[0].headers["x-scanneradapter-api-key"]).toBe("key");
      expect(adapter.seen[0].headers["content-type"]).toBe("application/vnd.scanner.adapter.scan.request+json; version=1.1");
      expect(JSON.parse(adapter.seen[0].body)).toEqual(REQUEST);
      expect(adapter.seen[1].headers.accept).toBe("application/vnd.security.vulnerability.report; version=1.1");
    } finally {
      await adapter.close();
    }
  });

  it("fails with the adapter's own words, on a report too large, and when the report is not ready in time", async () => {
    const failing = await fakeAdapter((request, response) => {
      if (request.method === "POST") return void response.writeHead(202).end('{"id":"x"}');
      response.writeHead(500, { "Content-Type": "application/vnd.scanner.adapter.error+json; version=1.0" }).end('{"error":{"message":"trivy crashed"}}');
    });
    const huge = await fakeAdapter((request, response) => {
      if (request.method === "POST") return void response.writeHead(202).end('{"id":"x"}');
      response.writeHead(200).end(JSON.stringify({ ...REPORT, padding: "x".repeat(4096) }));
    });
    const slow = await fakeAdapter((request, response) => {
      if (request.method === "POST") return void response.writeHead(202).end('{"id":"x"}');
      response.writeHead(302, { "Refresh-After": "1" }).end();
    });
    const endpoint = (url: string) => ({ url, auth: "" as const, access_credential: "", skip_cert_verify: false });
    try {
      await expect(client().scan(endpoint(failing.url), REQUEST)).rejects.toThrow(/answered GET \/api\/v1\/scan\/x\/report with 500: trivy crashed/);
      await expect(client({ reportMaxBytes: 1024 }).scan(endpoint(huge.url), REQUEST)).rejects.toThrow(/larger than 1024 bytes/);
      await expect(client({ timeoutMs: 1500 }).scan(endpoint(slow.url), REQUEST)).rejects.toThrow(AdapterError);
    } finally {
      await Promise.all([failing.close(), huge.close(), slow.close()]);
    }
  });

  it("never reaches an adapter the outbound guard refuses", async () => {
    const adapter = await fakeAdapter((_request, response) => void response.writeHead(200).end("{}"));
    try {
      await expect(client({ allow: [] }).metadata({ url: adapter.url, auth: "", access_credential: "", skip_cert_verify: false })).rejects.toThrow(/loopback/);
      expect(adapter.seen).toHaveLength(0);
    } finally {
      await adapter.close();
    }
  });
});
