import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "pg";
import { ADMIN_AUTH, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../../support/berth";
import { osvRecord, osvZip } from "../../support/osv-records";
import { basicAuth, RegistryClient } from "../../support/registry-client";
import { waitUntil } from "../../support/wait";

interface Status {
  generation: number;
  total_records: number;
  sync: { schedule: string; ecosystems: string[] } | null;
  last_sync: { at: string; error: string | null } | null;
  sources: { name: string; records: number; age_seconds: number; last_import: { imported: number; skipped: number; invalid: number } }[];
}

async function api(berth: TestBerth, path: string, init: RequestInit = {}, authorization = ADMIN_AUTH): Promise<{ status: number; body: any }> {
  const response = await fetch(`${berth.url}/api/v2.0${path}`, { ...init, headers: { Authorization: authorization, ...(init.headers as Record<string, string>) } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const importBody = (berth: TestBerth, type: string, body: Buffer | string, query = "") =>
  api(berth, `/vulndb/import${query}`, { method: "POST", headers: { "Content-Type": type }, body });

const status = async (berth: TestBerth) => (await api(berth, "/vulndb")).body as Status;
/** The status without the ages, which move on with the clock. */
const contents = async (berth: TestBerth) => {
  const { sources, ...rest } = await status(berth);
  return { ...rest, sources: sources.map(({ age_seconds: _age, ...source }) => source) };
};

// PGlite by an empty BERTH_DATABASE_URL (the test database made for the server is then unused).
const DATABASES: [string, Record<string, string>][] = [
  ["the test database", {}],
  ["PGlite", { BERTH_DATABASE_URL: "" }],
];

describe.each(DATABASES)("the vulnerability database API (%s)", (_name, databaseEnv) => {
  let berth: TestBerth;
  beforeAll(async () => {
    berth = await startBerth({ env: { ...databaseEnv, BERTH_VULNDB_MAX_ZIP_BYTES: String(64 * 1024) } });
  });
  afterAll(() => berth.close());

  it("imports an all.zip, counts invalid entries without losing the rest, and skips what is not newer on a second import", async () => {
    const records = [osvRecord("DEBIAN-CVE-2026-0001", "Debian:12", "openssl", "3.0.15-1"), osvRecord("DEBIAN-CVE-2026-0002", "Debian:12", "glibc", "2.36-9")];
    const zip = osvZip([...records, { id: "DEBIAN-CVE-2026-0003" }]);
    const first = await importBody(berth, "application/zip", zip, "?source=Debian");
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ source: "Debian", imported: 2, skipped: 0, invalid: 1, errors: [{ where: "DEBIAN-CVE-2026-0003", reason: expect.stringContaining("modified") }] });
    const again = await importBody(berth, "application/zip", zip, "?source=Debian");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ imported: 0, skipped: 2, invalid: 1, generation: first.body.generation });

    const now = await status(berth);
    expect(now).toMatchObject({ total_records: 2, generation: first.body.generation, sync: null, last_sync: null });
    expect(now.sources).toEqual([expect.objectContaining({ name: "Debian", records: 2, last_import: { imported: 0, skipped: 2, invalid: 1 } })]);
  });

  it("imports a JSON record and a JSON array, under `upload` unless named", async () => {
    const before = (await status(berth)).generation;
    expect((await importBody(berth, "application/json", JSON.stringify(osvRecord("GHSA-aaaa", "npm", "left-pad", "1.3.0")))).body).toMatchObject({ source: "upload", imported: 1 });
    const array = [osvRecord("GHSA-bbbb", "PyPI", "PyYAML", "6.0"), osvRecord("GHSA-cccc", "Go", "golang.org/x/net", "0.23.0")];
    const answer = await importBody(berth, "application/json; charset=utf-8", JSON.stringify(array), "?source=ghsa");
    expect(answer).toMatchObject({ status: 201, body: { source: "ghsa", imported: 2, invalid: 0 } });
    expect(answer.body.generation).toBe(before + 2);
  });

  it("refuses a body that is not a zip, not JSON, too large or of another type with a 4xx that says why, and keeps what it had", async () => {
    const before = await contents(berth);
    const notZip = await importBody(berth, "application/zip", "PK? not really");
    expect(notZip.status).toBe(400);
    expect(notZip.body.errors[0]).toEqual({ code: "BAD_REQUEST", message: expect.stringMatching(/^nothing was imported: the body is not a zip archive/) });
    const notJson = await importBody(berth, "application/json", '{"id": "x", ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors[0].message).toMatch(/^nothing was imported: the body is not valid JSON/);
    const tooLarge = await importBody(berth, "application/zip", Buffer.alloc(65 * 1024));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.errors[0].message).toContain("BERTH_VULNDB_MAX_ZIP_BYTES");
    const empty = await api(berth, "/vulndb/import", { method: "POST", headers: { "Content-Type": "application/json" } });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].message).toMatch(/^nothing was imported: the body is not valid JSON/);
    const otherType = await importBody(berth, "text/plain", "hello");
    expect(otherType.status).toBe(415);
    expect(await contents(berth)).toEqual(before);
  });

  it("answers only system admins, and writes an audit record per import", async () => {
    const admin = new RegistryClient(berth.url, ADMIN_AUTH);
    await admin.createUser("vulnreader", "Vuln-Passw0rd");
    const user = basicAuth("vulnreader", "Vuln-Passw0rd");
    expect((await api(berth, "/vulndb", {}, user)).status).toBe(403);
    expect((await api(berth, "/vulndb/import", { method: "POST", headers: { "Content-Type": "application/json" }, body: "[]" }, user)).status).toBe(403);
    expect((await fetch(`${berth.url}/api/v2.0/vulndb`)).status).toBe(401);
    const audit = await api(berth, "/audit-logs?q=resource_type%3Dvulnerability-database&page_size=50");
    expect(audit.body.map((entry: { resource: string }) => entry.resource)).toEqual(expect.arrayContaining(["Debian", "upload", "ghsa"]));
  });

  it("refuses a sync when no mirror is configured", async () => {
    expect((await api(berth, "/vulndb/sync", { method: "POST" })).status).toBe(412);
  });
});

describe("the vulnerability database's mirror sync", () => {
  let mirror: Server;
  let berth: TestBerth;
  const requests: { url: string; ifNoneMatch?: string }[] = [];
  let debianZip = osvZip([osvRecord("DEBIAN-CVE-2026-0100", "Debian:12", "curl", "7.88.1-10+deb12u8")]);
  const alpineZip = osvZip([osvRecord("ALPINE-CVE-2026-0100", "Alpine:v3.20", "curl", "8.9.0-r0"), osvRecord("ALPINE-CVE-2026-0101", "Alpine:v3.20", "musl", "1.2.5-r1")]);

  beforeAll(async () => {
    mirror = createServer((request, response) => {
      requests.push({ url: request.url!, ifNoneMatch: request.headers["if-none-match"] });
      const zip = request.url === "/Debian/all.zip" ? debianZip : request.url === "/Alpine/all.zip" ? alpineZip : null;
      if (!zip) return void response.writeHead(404).end("no such file");
      const etag = `"${zip.length}"`;
      if (request.headers["if-none-match"] === etag) return void response.writeHead(304).end();
      response.writeHead(200, { "Content-Type": "application/zip", ETag: etag }).end(zip);
    });
    await new Promise<void>((resolve) => mirror.listen(0, "127.0.0.1", resolve));
    const { port } = mirror.address() as AddressInfo;
    berth = await startBerth({
      env: { ...RECEIVERS_ON_LOOPBACK, BERTH_VULNDB_URL: `http://127.0.0.1:${port}/`, BERTH_VULNDB_ECOSYSTEMS: "Debian, Alpine,Wolfi" },
    });
  });
  afterAll(async () => {
    await berth.close();
    await new Promise((resolve) => mirror.close(resolve));
  });

  const syncOnce = async () => {
    const previous = (await status(berth)).last_sync?.at;
    expect((await api(berth, "/vulndb/sync", { method: "POST" })).status).toBe(202);
    await waitUntil(async () => ((await status(berth)).last_sync?.at ?? previous) !== previous, "the sync to finish");
    return status(berth);
  };

  it("downloads each ecosystem's all.zip, imports it under the ecosystem's name, and reports an ecosystem the mirror lacks", async () => {
    const after = await syncOnce();
    expect(after.sources.map((s) => [s.name, s.records])).toEqual([["Alpine", 2], ["Debian", 1]]);
    expect(after.last_sync!.error).toMatch(/^Wolfi: GET http:\/\/127\.0\.0\.1:\d+\/Wolfi\/all\.zip answered 404$/);
    expect(after.sync).toEqual({ schedule: "0 3 * * *", ecosystems: ["Debian", "Alpine", "Wolfi"] });
    if (berth.databaseUrl) {
      // The schedule every node arms (each tick runs on one of them).
      const client = new Client({ connectionString: berth.databaseUrl });
      await client.connect();
      const { rows } = await client.query("SELECT cron FROM schedules WHERE vendor_type = 'VULNDB_SYNC'").finally(() => client.end());
      expect(rows).toEqual([{ cron: "0 3 * * *" }]);
    }
  });

  it("asks with the last ETag and skips a zip that did not change, and imports one that did", async () => {
    const generation = (await status(berth)).generation;
    debianZip = osvZip([osvRecord("DEBIAN-CVE-2026-0100", "Debian:12", "curl", "7.88.1-10+deb12u9", "2026-02-01T00:00:00Z"), osvRecord("DEBIAN-CVE-2026-0101", "Debian:12", "zlib", "1:1.2.13.dfsg-1+b1")]);
    requests.length = 0;
    const after = await syncOnce();
    expect(requests.find((r) => r.url === "/Alpine/all.zip")?.ifNoneMatch).toBe(`"${alpineZip.length}"`);
    expect(after.sources.find((s) => s.name === "Debian")).toMatchObject({ records: 2, last_import: { imported: 2, skipped: 0, invalid: 0 } });
    expect(after.sources.find((s) => s.name === "Alpine")!.last_import.imported).toBe(2); // untouched: the earlier import's counts
    expect(after.generation).toBe(generation + 1);
  });
});

it("syncs through the outbound guard: a mirror on loopback is refused unless BERTH_OUTBOUND_ALLOW exempts it", async () => {
  const berth = await startBerth({ env: { BERTH_VULNDB_URL: "http://127.0.0.1:9/", BERTH_VULNDB_ECOSYSTEMS: "Debian" } });
  try {
    expect((await api(berth, "/vulndb/sync", { method: "POST" })).status).toBe(202);
    await waitUntil(async () => (await status(berth)).last_sync !== null, "the sync to finish");
    expect((await status(berth)).last_sync!.error).toBe("Debian: 127.0.0.1:9 resolves to 127.0.0.1, a loopback address: outbound requests there are refused");
  } finally {
    await berth.close();
  }
});
