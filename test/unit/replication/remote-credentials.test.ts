import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OutboundGuard, type ResolvedAddress } from "../../../registry/outbound/address-guard";
import { RemoteRegistry } from "../../../registry/replication/remote-registry";

/**
 * Where a registry endpoint's stored credentials may go. "The same host" is the same name and port: two servers on
 * 127.0.0.1 with different ports are different hosts here, as two tenants' services on one address would be.
 */
const CREDS = "replicator:s3cret-Passw0rd";
const BASIC = `Basic ${Buffer.from(CREDS).toString("base64")}`;

class Recorder {
  readonly seen: { url: string; authorization: string | undefined }[] = [];
  port = 0;
  private server!: Server;
  constructor(private readonly handle: (request: IncomingMessage, response: ServerResponse, self: Recorder) => void) {}

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.seen.push({ url: request.url ?? "", authorization: request.headers.authorization });
      request.resume();
      this.handle(request, response, this);
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// Receivers live on 127.0.0.1 here, so loopback is allowed; link-local stays refused. Any name resolves to 127.0.0.1.
const guard = new OutboundGuard({
  deny: [],
  allow: ["127.0.0.0/8"],
  own: () => [],
  resolve: async (): Promise<ResolvedAddress[]> => [{ address: "127.0.0.1", family: 4 }],
});

/** A registry answering /v2/ with a Bearer challenge naming `realm()`, and accepting the token it hands out at /token. */
function registryChallenging(realm: (self: Recorder) => string) {
  return new Recorder((request, response, self) => {
    if (request.url?.startsWith("/token")) return response.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"t0k"}');
    if (request.headers.authorization === "Bearer t0k") return response.writeHead(200).end("{}");
    response.writeHead(401, { "WWW-Authenticate": `Bearer realm="${realm(self)}",service="x"` }).end();
  });
}

describe("token realms", () => {
  const servers: Recorder[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const started = async (server: Recorder) => {
    servers.push(server);
    return server.start();
  };

  it("sends the credentials to a realm on the endpoint's own host and port", async () => {
    const registry = await started(registryChallenging((self) => `${self.url}/token`));
    await new RemoteRegistry(registry.url, { credentials: CREDS, guard, attempts: 1 }).ping();
    expect(registry.seen.find((hit) => hit.url.startsWith("/token"))?.authorization).toBe(BASIC);
  });

  it("asks a plain-http realm on another host (another port) for a token without the credentials", async () => {
    const realm = await started(new Recorder((_request, response) => response.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"t0k"}')));
    const registry = await started(registryChallenging(() => `${realm.url}/token`));
    await new RemoteRegistry(registry.url, { credentials: CREDS, guard, attempts: 1 }).ping();
    expect(realm.seen).toHaveLength(1);
    expect(realm.seen[0].authorization).toBeUndefined();
  });

  it("does not contact a realm the guard refuses (cloud metadata)", async () => {
    const registry = await started(registryChallenging(() => "http://169.254.169.254/latest/meta-data/iam"));
    await expect(new RemoteRegistry(registry.url, { credentials: CREDS, guard, attempts: 1 }).ping()).rejects.toThrow(
      /the token service http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam refused: .*link-local address \(cloud metadata\)/,
    );
  });
});

describe("redirects", () => {
  const servers: Recorder[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  let storage: Recorder;
  let registry: Recorder;

  beforeAll(async () => {
    storage = await new Recorder((_request, response) => response.writeHead(200).end("blob-bytes")).start();
    registry = await new Recorder((request, response, self) => {
      if (request.url === "/v2/app/blobs/sha256:elsewhere") return response.writeHead(307, { Location: `${storage.url}/bucket/blob` }).end();
      if (request.url === "/v2/app/blobs/sha256:here") return response.writeHead(302, { Location: `${self.url}/local/blob` }).end();
      if (request.url === "/v2/app/blobs/sha256:metadata") return response.writeHead(302, { Location: "http://169.254.169.254/latest/" }).end();
      if (request.url === "/v2/app/blobs/sha256:loop") return response.writeHead(302, { Location: `${self.url}/v2/app/blobs/sha256:loop` }).end();
      if (request.url === "/local/blob") return response.writeHead(200).end("local-bytes");
      response.writeHead(500).end(`${"a very long and\nmulti-line answer ".repeat(60)}`);
    }).start();
    servers.push(storage, registry);
  });
  beforeEach(() => {
    storage.seen.length = 0;
    registry.seen.length = 0;
  });
  const remote = () => new RemoteRegistry(registry.url, { credentials: CREDS, guard, attempts: 1 });
  const read = async (digest: string) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await remote().blob("app", digest)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  };

  it("follows a redirect to another host without the credentials", async () => {
    expect(await read("sha256:elsewhere")).toBe("blob-bytes");
    expect(registry.seen[0].authorization).toBe(BASIC);
    expect(storage.seen).toEqual([{ url: "/bucket/blob", authorization: undefined }]);
  });

  it("keeps the credentials on a redirect within the endpoint's host", async () => {
    expect(await read("sha256:here")).toBe("local-bytes");
    expect(registry.seen.map((hit) => hit.authorization)).toEqual([BASIC, BASIC]);
  });

  it("does not follow a redirect to an address the guard refuses", async () => {
    await expect(read("sha256:metadata")).rejects.toThrow(/refused: .*link-local address/);
  });

  it("stops after a few hops", async () => {
    await expect(read("sha256:loop")).rejects.toThrow(/answered 302/);
    expect(registry.seen).toHaveLength(6);
  });

  it("quotes a remote's answer on one line, shortened", async () => {
    const error = (await remote().ping().catch((e: Error) => e)) as Error;
    expect(error.message).not.toContain("\n");
    const quoted = error.message.split("answered 500: ")[1];
    expect(quoted.length).toBeLessThanOrEqual(201);
  });
});

describe("connections go to the address the guard checked", () => {
  let registry: Recorder;
  beforeAll(async () => {
    registry = await new Recorder((_request, response) => response.writeHead(200).end("{}")).start();
  });
  afterAll(() => registry.close());
  beforeEach(() => (registry.seen.length = 0));

  it("reaches a name the system resolver does not know through the guard's answer", async () => {
    await new RemoteRegistry(`http://upstream.example:${registry.port}`, { guard, attempts: 1 }).ping();
    expect(registry.seen).toHaveLength(1);
  });

  it("refuses when the name resolves elsewhere by the time the connection is opened (DNS rebinding)", async () => {
    let answers = 0;
    const rebinding = new OutboundGuard({
      deny: [],
      allow: [],
      own: () => [],
      // First answer (the check before sending) a public address, then loopback (the check when connecting).
      resolve: async () => [{ address: answers++ === 0 ? "203.0.113.10" : "127.0.0.1", family: 4 }],
    });
    await expect(new RemoteRegistry(`http://rebind.example:${registry.port}`, { guard: rebinding, attempts: 1 }).ping()).rejects.toThrow();
    expect(answers).toBe(2);
    expect(registry.seen).toHaveLength(0);
  });
});
