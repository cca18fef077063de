import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { startBerth, type TestBerth } from "../support/berth";
import { runCli } from "../support/cli";
import { freePort, selfSignedCertificate } from "../support/reference-registry";
import { describeWithTool } from "../support/tools";

/** https in front of a plain server, with the certificate and key in `dir`: Berth as its TLS settings make it. */
async function startTlsFront(dir: string, upstreamPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTlsServer({ cert: await readFile(path.join(dir, "cert.pem")), key: await readFile(path.join(dir, "key.pem")) }, (client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the container healthcheck (dist/registry/ops/healthcheck.js)", () => {
  let berth: TestBerth;
  let port: number;

  beforeAll(async () => {
    berth = await startBerth();
    port = Number(new URL(berth.url).port);
  });
  afterAll(async () => {
    await berth?.close();
  });

  it("exits 0 when berth answers 200 on BERTH_ADDR, reaching a wildcard address on the loopback", async () => {
    const result = await runCli("healthcheck", [], { BERTH_ADDR: `0.0.0.0:${port}` });
    expect(result.stdout).toMatch(/^200 \{"status":"healthy"/);
    expect(result.code).toBe(0);
  });

  it("exits 1 with the server's reasons while a component is unhealthy", async () => {
    // The blob store's root turns into a file: its write probe fails while the database stays up.
    const blobs = path.join(berth.dataDir, "blobs");
    await rm(blobs, { recursive: true, force: true });
    await writeFile(blobs, "");
    try {
      const result = await runCli("healthcheck", [], { BERTH_ADDR: `127.0.0.1:${port}` });
      expect(result.stdout).toMatch(/^503 \{"status":"unhealthy".*"name":"storage","status":"unhealthy"/);
      expect(result.code).toBe(1);
    } finally {
      await rm(blobs, { force: true });
    }
    expect((await runCli("healthcheck", [], { BERTH_ADDR: `127.0.0.1:${port}` })).code).toBe(0);
  });

  it("exits 1 when nothing listens on BERTH_ADDR", async () => {
    const result = await runCli("healthcheck", [], { BERTH_ADDR: `127.0.0.1:${await freePort()}` });
    expect(result.stdout).toMatch(/^unreachable: .*ECONNREFUSED/);
    expect(result.code).toBe(1);
  });

  it("exits 1 naming the variable when BERTH_ADDR is not host:port", async () => {
    const result = await runCli("healthcheck", [], { BERTH_ADDR: "localhost" });
    expect(result.stdout).toMatch(/^invalid configuration: BERTH_ADDR: /);
    expect(result.code).toBe(1);
  });

  describeWithTool("openssl", "over https (BERTH_TLS_CERT_FILE)", () => {
    let certificates: string;
    let other: string;
    let front: { port: number; close(): Promise<void> };

    beforeAll(async () => {
      certificates = await mkdtemp(path.join(tmpdir(), "berth-healthcheck-"));
      other = path.join(certificates, "other");
      await selfSignedCertificate(certificates);
      await mkdir(other);
      await selfSignedCertificate(other);
      front = await startTlsFront(certificates, port);
    });
    afterAll(async () => {
      await front?.close();
      await rm(certificates, { recursive: true, force: true });
    });

    it("exits 0 when the server presents the certificate in BERTH_TLS_CERT_FILE", async () => {
      const result = await runCli("healthcheck", [], { BERTH_ADDR: `0.0.0.0:${front.port}`, BERTH_TLS_CERT_FILE: path.join(certificates, "cert.pem") });
      expect(result.stdout).toMatch(/^200 \{"status":"healthy"/);
      expect(result.code).toBe(0);
    });

    it("exits 1 when the server presents another certificate", async () => {
      const result = await runCli("healthcheck", [], { BERTH_ADDR: `127.0.0.1:${front.port}`, BERTH_TLS_CERT_FILE: path.join(other, "cert.pem") });
      expect(result.stdout).toBe("unreachable: the server's certificate is not the one in BERTH_TLS_CERT_FILE\n");
      expect(result.code).toBe(1);
    });

    it("exits 1 when the server speaks plain http", async () => {
      const result = await runCli("healthcheck", [], { BERTH_ADDR: `127.0.0.1:${port}`, BERTH_TLS_CERT_FILE: path.join(certificates, "cert.pem") });
      expect(result.stdout).toMatch(/^unreachable: /);
      expect(result.code).toBe(1);
    });
  });
});
