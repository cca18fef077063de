import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OutboundGuard, OutboundRefused, type OutboundGuardOptions, type ResolvedAddress } from "../../../registry/outbound/address-guard";
import { postJson } from "../../../registry/notifications/http-post";

/** A guard with the defaults (nothing allowed, nothing extra denied) and a resolver answering from `names`. */
function guardWith(names: Record<string, string[]> = {}, options: Partial<OutboundGuardOptions> = {}): OutboundGuard {
  return new OutboundGuard({
    deny: [],
    allow: [],
    own: () => [],
    resolve: async (hostname) => {
      const addresses = names[hostname];
      if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    ...options,
  });
}

async function refusalOf(guard: OutboundGuard, url: string): Promise<OutboundRefused | null> {
  try {
    await guard.check(url);
    return null;
  } catch (error) {
    if (error instanceof OutboundRefused) return error;
    throw error;
  }
}

describe("the outbound address guard", () => {
  const guard = guardWith();

  it.each([
    ["http://127.0.0.1:8080/hook", "loopback"],
    ["http://127.8.9.10/", "loopback"],
    ["http://2130706433/", "loopback"], // decimal 127.0.0.1
    ["http://0x7f.1/", "loopback"], // hex and short form
    ["http://0177.0.0.1/", "loopback"], // octal
    ["http://[::1]:5000/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"], // IPv4-mapped IPv6
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://2852039166/", "link-local"], // decimal 169.254.169.254
    ["http://[::ffff:169.254.169.254]/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[fd00:ec2::254]/", "cloud metadata"],
    ["http://0.0.0.0:5000/", "unspecified"],
    ["http://0/", "unspecified"],
    ["http://[::]/", "unspecified"],
  ])("refuses %s (%s)", async (url, rule) => {
    const refusal = await refusalOf(guard, url);
    expect(refusal).not.toBeNull();
    expect(refusal!.message).toContain(rule);
  });

  it.each(["http://10.1.2.3/hook", "https://192.168.0.10:8443/", "http://172.16.5.4/", "http://[fd12::1]/", "http://8.8.8.8/"])(
    "lets private and public addresses through by default: %s",
    async (url) => {
      expect(await refusalOf(guard, url)).toBeNull();
    },
  );

  it("checks every address a name resolves to: one loopback address among public ones is enough to refuse", async () => {
    const named = guardWith({ "ci.example": ["203.0.113.7", "127.0.0.1"], "ok.example": ["203.0.113.7", "2001:db8::7"] });
    expect((await refusalOf(named, "http://ci.example/hook"))!.message).toBe("ci.example resolves to 127.0.0.1, a loopback address: outbound requests there are refused");
    expect(await named.check("http://ok.example/hook")).toHaveLength(2);
  });

  it("refuses ranges listed in BERTH_OUTBOUND_DENY and exempts those in BERTH_OUTBOUND_ALLOW", async () => {
    const strict = guardWith({ "ci.internal": ["10.0.0.5"] }, { deny: ["10.0.0.0/8", "fd00::/8"] });
    expect((await refusalOf(strict, "http://ci.internal/"))!.rule).toBe("an address in BERTH_OUTBOUND_DENY");
    expect((await refusalOf(strict, "http://[fd00::5]/"))!.rule).toBe("an address in BERTH_OUTBOUND_DENY");
    const loopback = guardWith({}, { allow: ["127.0.0.0/8"] });
    expect(await refusalOf(loopback, "http://127.0.0.1:9000/")).toBeNull();
    expect(await refusalOf(loopback, "http://169.254.169.254/")).not.toBeNull();
  });

  it("never lets a request reach the registry itself, not even through BERTH_OUTBOUND_ALLOW", async () => {
    const own = guardWith(
      { "registry.example.com": ["203.0.113.9"] },
      { allow: ["127.0.0.0/8", "203.0.113.0/24"], own: () => [{ address: "127.0.0.0/8", port: 5000 }], publicUrl: "https://registry.example.com" },
    );
    expect((await refusalOf(own, "http://127.0.0.1:5000/api/v2.0/projects"))!.rule).toBe("the registry's own listening address");
    expect((await refusalOf(own, "http://127.0.0.2:5000/"))!.rule).toBe("the registry's own listening address");
    expect(await refusalOf(own, "http://127.0.0.1:5001/")).toBeNull();
    expect((await refusalOf(own, "https://REGISTRY.example.com:443/v2/"))!.rule).toBe("the registry's own public address (BERTH_PUBLIC_URL)");
    expect(await refusalOf(own, "http://registry.example.com:8080/")).toBeNull();
  });

  it("passes a resolver failure on (the caller decides: a delivery retries, a save accepts the name)", async () => {
    await expect(guard.check("http://does-not-resolve.example/")).rejects.toThrow(/ENOTFOUND/);
  });
});

describe("a webhook POST connects to the address the guard checked", () => {
  let server: Server;
  let port = 0;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits++;
      request.resume();
      if (request.url === "/redirect") response.writeHead(302, { Location: `http://127.0.0.1:${port}/hook` }).end();
      else response.writeHead(500).end("internal detail of the receiver");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (hits = 0));

  const post = (guard: OutboundGuard, url: string) => postJson(url, "{}", {}, { timeoutMs: 5000, skipCertVerify: false, guard });

  it("refuses a name that now resolves to loopback, without connecting, and says it is final", async () => {
    const result = await post(guardWith({ "hooks.example": ["127.0.0.1"] }), `http://hooks.example:${port}/hook`);
    expect(result).toEqual({ status: null, error: `hooks.example:${port} resolves to 127.0.0.1, a loopback address: outbound requests there are refused`, answer: "", refused: true });
    expect(hits).toBe(0);
  });

  it("connects to the checked address (the name is unknown to the system resolver), keeping the answer apart from the error", async () => {
    const result = await post(guardWith({ "hooks.example": ["127.0.0.1"] }, { allow: ["127.0.0.1"] }), `http://hooks.example:${port}/hook`);
    expect(result).toEqual({ status: 500, error: "receiver answered 500", answer: "internal detail of the receiver", refused: false });
    expect(hits).toBe(1);
  });

  it("does not follow a redirect: a 302 is a failed delivery", async () => {
    const result = await post(guardWith({}, { allow: ["127.0.0.1"] }), `http://127.0.0.1:${port}/redirect`);
    expect(result.status).toBe(302);
    expect(result.error).toBe("receiver answered 302");
    expect(hits).toBe(1);
  });

  it("a resolver failure is not a refusal (the delivery is retried)", async () => {
    const result = await post(guardWith(), `http://nowhere.example:${port}/hook`);
    expect(result.refused).toBe(false);
    expect(result.error).toMatch(/ENOTFOUND/);
  });
});

describe("isSelf: this registry as a target", () => {
  it("is the public URL's host, or a name or address that is only where the registry listens", async () => {
    const guard = guardWith({ "registry.local": ["127.0.0.1"], "mixed.local": ["127.0.0.1", "203.0.113.9"] }, { own: () => [{ address: "127.0.0.0/8", port: 5000 }], publicUrl: "https://berth.example.com" });
    expect(await guard.isSelf("https://berth.example.com/scanner")).toBe(true);
    expect(await guard.isSelf("http://127.0.0.1:5000/scanner")).toBe(true);
    expect(await guard.isSelf("http://registry.local:5000")).toBe(true);
    expect(await guard.isSelf("http://127.0.0.1:5001")).toBe(false);
    expect(await guard.isSelf("http://mixed.local:5000")).toBe(false);
    expect(await guard.isSelf("http://unknown.local:5000")).toBe(false);
    expect(await guard.isSelf("http://169.254.169.254/")).toBe(false);
  });
});
