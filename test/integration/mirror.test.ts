/**
 * The registry mirror (BERTH_MIRROR_ADDR, BERTH_MIRROR_HOST → BERTH_MIRROR_PROJECT), with podman configured as a user
 * would: a registries.conf whose upstream host does not exist, with Berth's mirror port as its `[[registry.mirror]]`,
 * so an image can only arrive through Berth. Berth's proxy project `hub` is in front of a docker-registry on 127.0.0.1.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent } from "undici";
import { ADMIN_AUTH, ADMIN_PASSWORD, RECEIVERS_ON_LOOPBACK, startBerth, type TestBerth } from "../support/berth";
import { createTestPki, presented } from "../support/certificates";
import { Podman } from "../support/podman";
import { createProxyProject, setProjectPublic, waitUntilCached } from "../support/proxy-project";
import { rawRequest } from "../support/raw-http";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { OCI_MANIFEST, RegistryClient } from "../support/registry-client";
import { describeWithTool, findTool, testIf } from "../support/tools";
import { waitUntil } from "../support/wait";

/** The upstream's name in the users' configuration: it resolves nowhere, so only the mirror can serve it. */
const UPSTREAM_HOST = "upstream.invalid";
const MIRROR_HOST = "mirror.example.test";
const podmanPath = findTool("podman");
const hasRegistry = findTool("docker-registry") !== null;
const usePodman = testIf(podmanPath !== null && hasRegistry, "podman and docker-registry are needed");
const useRegistry = testIf(hasRegistry, "docker-registry is needed");

interface ErrorBody {
  errors: { code: string; message: string }[];
}

let berth: TestBerth;
let upstream: ReferenceRegistry;
let admin: RegistryClient;
/** Anonymous, on the mirror port. */
let mirror: RegistryClient;
let upstreamDigest: string;
let ownDigest: string;

beforeAll(async () => {
  if (!hasRegistry) return;
  [berth, upstream] = await Promise.all([
    startBerth({ env: { ...RECEIVERS_ON_LOOPBACK, BERTH_MIRROR_ADDR: "127.0.0.1:0", BERTH_MIRROR_HOST: MIRROR_HOST, BERTH_MIRROR_PROJECT: "hub" } }),
    startReferenceRegistry(),
  ]);
  admin = new RegistryClient(berth.url);
  mirror = new RegistryClient(berth.mirrorUrl!, null);
  await createProxyProject(admin, "hub", upstream.url, { public: true });
  upstreamDigest = await new RegistryClient(upstream.url, null).pushUnpackableImage("library/busybox", "1");
  // Berth's own library/busybox:1, which a mirror request for library/busybox:1 must never return.
  ownDigest = await admin.pushUnpackableImage("library/busybox", "1-own");
  const own = await admin.fetch(`/v2/library/busybox/manifests/1-own`, { headers: { Accept: OCI_MANIFEST } });
  expect((await admin.fetch(`/v2/library/busybox/manifests/1`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: await own.text() })).status).toBe(201);
  expect(ownDigest).not.toBe(upstreamDigest);
});

afterAll(async () => {
  await Promise.all([berth?.close(), upstream?.stop()]);
});

/** A podman with its own storage and a registries.conf sending `UPSTREAM_HOST` to Berth's mirror port. */
async function podmanThroughMirror(): Promise<{
  podman: Podman;
  pull(reference: string, extra?: string[]): Promise<string>;
  digest(reference: string): Promise<string>;
  login(authfile: string): Promise<string>;
}> {
  const podman = await Podman.create(podmanPath!);
  const dir = podman.storageOptions[1];
  const registriesConf = path.join(path.dirname(dir), "registries.conf");
  const policy = path.join(path.dirname(dir), "policy.json");
  await writeFile(
    registriesConf,
    [
      "unqualified-search-registries = []",
      "",
      "[[registry]]",
      `prefix = "${UPSTREAM_HOST}"`,
      `location = "${UPSTREAM_HOST}"`,
      "",
      "[[registry.mirror]]",
      `location = "${new URL(berth.mirrorUrl!).host}"`,
      "insecure = true",
      "",
    ].join("\n"),
  );
  await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  const env = { CONTAINERS_REGISTRIES_CONF: registriesConf };
  const global = ["--events-backend", "none"];
  return {
    podman,
    pull: (reference, extra = []) => podman.run([...global, "pull", "--quiet", "--signature-policy", policy, ...extra, reference], env),
    digest: (reference) => podman.run([...global, "image", "inspect", "--format", "{{.Digest}}", reference], env),
    // Credentials go to a mirror by the mirror's own host (podman never sends the upstream's, nor --creds, to a mirror).
    login: (authfile) => podman.run([...global, "login", "--tls-verify=false", "--authfile", authfile, "-u", "admin", "-p", ADMIN_PASSWORD, new URL(berth.mirrorUrl!).host], env),
  };
}

/** What a failed podman said. */
async function failure(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => null,
    (e: { stderr?: string }) => e,
  );
  expect(error).not.toBeNull();
  return String(error!.stderr);
}

describe("the registry mirror", () => {
  usePodman("podman pulls an upstream image through the mirror, the proxy project caches it, and it comes back with the upstream down", async () => {
    const client = await podmanThroughMirror();
    try {
      const reference = `${UPSTREAM_HOST}/library/busybox:1`;
      await client.pull(reference);
      expect(await client.digest(reference)).toBe(upstreamDigest);
      // Through Berth: the proxy project holds it now, under the upstream's name.
      await waitUntilCached(admin, "hub", "library/busybox", "1");

      await upstream.halt();
      try {
        const again = await podmanThroughMirror();
        try {
          await again.pull(reference);
          expect(await again.digest(reference)).toBe(upstreamDigest);
        } finally {
          await again.podman.remove();
        }
      } finally {
        await upstream.resume();
      }
    } finally {
      await client.podman.remove();
    }
  });

  useRegistry("never serves Berth's own same-named image, nor another project's, and lists the tag right after a first pull", async () => {
    // Berth's own library/busybox:1 is there, and not what the mirror answers; `busybox` alone is library/busybox.
    expect(await admin.digestOf("library/busybox", "1")).toBe(ownDigest);
    for (const name of ["library/busybox", "busybox"]) {
      const response = await mirror.fetch(`/v2/${name}/manifests/1`, { headers: { Accept: OCI_MANIFEST } });
      expect(response.status).toBe(200);
      expect(response.headers.get("docker-content-digest")).toBe(upstreamDigest);
    }
    // Only in Berth's library: the upstream does not have it, so the mirror does not either.
    await admin.pushUnpackableImage("library/only-here", "1");
    const missing = await mirror.fetch("/v2/library/only-here/manifests/1", { headers: { Accept: OCI_MANIFEST } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).errors[0].code).toBe("MANIFEST_UNKNOWN");
    // A mirror name beginning with a project's name is still the upstream's: hub/… is hub/hub/….
    expect((await mirror.fetch("/v2/library/busybox/manifests/1-own", { headers: { Accept: OCI_MANIFEST } })).status).toBe(404);

    // A first pull of a tag (manifest only, as `skopeo inspect` does) is listed at once, on the mirror and on the proxy project.
    const fresh = await new RegistryClient(upstream.url, null).pushUnpackableImage("team/tool", "2.0");
    const pulled = await mirror.fetch("/v2/team/tool/manifests/2.0", { headers: { Accept: OCI_MANIFEST } });
    expect(pulled.headers.get("docker-content-digest")).toBe(fresh);
    expect(await (await mirror.fetch("/v2/team/tool/tags/list")).json()).toEqual({ name: "team/tool", tags: ["2.0"] });
    expect(await (await admin.fetch("/v2/hub/team/tool/tags/list")).json()).toEqual({ name: "hub/team/tool", tags: ["2.0"] });
  });

  useRegistry("gives tokens for upstream names that name the proxy project's repositories only", async () => {
    await setProjectPublic(admin, "library", false);
    try {
      const challenge = await mirror.fetch("/v2/");
      expect(challenge.status).toBe(401);
      expect(challenge.headers.get("www-authenticate")).toBe(`Bearer realm="${berth.mirrorUrl}/service/token",service="berth"`);
      const tokenFor = async (scope: string) =>
        ((await (await mirror.fetch(`/service/token?service=berth&scope=${encodeURIComponent(scope)}`)).json()) as { token: string }).token;
      const busybox = await tokenFor("repository:library/busybox:pull");
      const pulled = await mirror.fetch("/v2/library/busybox/manifests/1", { headers: { Authorization: `Bearer ${busybox}`, Accept: OCI_MANIFEST } });
      expect(pulled.status).toBe(200);
      // The token names the proxy project's repository, so it is no good for Berth's own (private) library/only-here.
      const token = await tokenFor("repository:library/only-here:pull");
      const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { access: { name: string; actions: string[] }[] };
      expect(claims.access).toEqual([{ type: "repository", name: "hub/library/only-here", actions: ["pull"] }]);
      const onMain = await fetch(`${berth.url}/v2/library/only-here/manifests/1`, { headers: { Authorization: `Bearer ${token}`, Accept: OCI_MANIFEST } });
      expect(onMain.status).toBe(401);
      // A token-less anonymous pull on the mirror is challenged with the upstream name, the realm being the mirror's.
      await setProjectPublic(admin, "hub", false);
      const anonymous = await mirror.fetch("/v2/library/busybox/manifests/1", { headers: { Accept: OCI_MANIFEST } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toBe(`Bearer realm="${berth.mirrorUrl}/service/token",service="berth",scope="repository:library/busybox:pull"`);
    } finally {
      await setProjectPublic(admin, "library", true);
      await setProjectPublic(admin, "hub", true);
    }
  });

  usePodman("refuses anonymous mirror pulls while the proxy project is private, and serves its members", async () => {
    await setProjectPublic(admin, "hub", false);
    const client = await podmanThroughMirror();
    try {
      const reference = `${UPSTREAM_HOST}/library/busybox:1`;
      expect(await failure(client.pull(reference))).toMatch(/unauthorized|authentication required/i);
      const authfile = path.join(path.dirname(client.podman.storageOptions[1]), "auth.json");
      await client.login(authfile);
      await client.pull(reference, ["--authfile", authfile]);
      expect(await client.digest(reference)).toBe(upstreamDigest);
    } finally {
      await setProjectPublic(admin, "hub", true);
      await client.podman.remove();
    }
  });

  useRegistry("is read-only, and serves nothing but pulls and tokens", async () => {
    const asAdmin = new RegistryClient(berth.mirrorUrl!, ADMIN_AUTH);
    const writes: [string, string][] = [
      ["POST", "/v2/library/busybox/blobs/uploads/"],
      ["PUT", "/v2/library/busybox/manifests/2"],
      ["DELETE", `/v2/library/busybox/manifests/${upstreamDigest}`],
      ["PATCH", "/v2/library/busybox/blobs/uploads/abc"],
    ];
    for (const [method, url] of writes) {
      const response = await asAdmin.fetch(url, { method, headers: { "Content-Type": OCI_MANIFEST }, body: method === "DELETE" ? undefined : "{}" });
      expect(response.status).toBe(405);
      expect(((await response.json()) as ErrorBody).errors[0].code).toBe("UNSUPPORTED");
    }
    expect((await asAdmin.fetch("/v2/_catalog")).status).toBe(405);
    expect((await asAdmin.fetch("/api/v2.0/projects")).status).toBe(404);
    // The same image is still whole on the registry's own port.
    expect(await admin.digestOf("hub/library/busybox", "1")).toBe(upstreamDigest);
  });

  useRegistry("answers as the mirror on the main port to requests for BERTH_MIRROR_HOST", async () => {
    const port = new URL(berth.url).port;
    const byHost = await rawRequest(berth.url, { method: "GET", path: "/v2/library/busybox/manifests/1", headers: { Host: `${MIRROR_HOST}:${port}`, Accept: OCI_MANIFEST } });
    expect(byHost.status).toBe(200);
    expect(byHost.headers["docker-content-digest"]).toBe(upstreamDigest);
    const write = await rawRequest(berth.url, { method: "DELETE", path: "/v2/library/busybox/manifests/1", headers: { Host: MIRROR_HOST, Authorization: ADMIN_AUTH } });
    expect(write.status).toBe(405);
    // Any other Host is the registry itself.
    expect((await admin.fetch("/v2/library/busybox/manifests/1", { headers: { Accept: OCI_MANIFEST } })).headers.get("docker-content-digest")).toBe(ownDigest);
  });

  useRegistry("refuses to answer when BERTH_MIRROR_PROJECT is not a proxy project", async () => {
    const other = await startBerth({ env: { BERTH_MIRROR_ADDR: "127.0.0.1:0", BERTH_MIRROR_PROJECT: "library" } });
    try {
      const response = await new RegistryClient(other.mirrorUrl!, ADMIN_AUTH).fetch("/v2/library/busybox/manifests/1");
      expect(response.status).toBe(503);
      expect(((await response.json()) as ErrorBody).errors[0].message).toMatch(/BERTH_MIRROR_PROJECT library is not a proxy-cache project/);
    } finally {
      await other.close();
    }
  });
});

describeWithTool("openssl", "the registry mirror with BERTH_TLS_CERT_FILE", () => {
  it("serves HTTPS with the main listener's certificate, renewals included", async () => {
    const pki = await createTestPki();
    const work = await mkdtemp(path.join(tmpdir(), "berth-mirror-tls-"));
    const certFile = path.join(work, "tls.crt");
    const keyFile = path.join(work, "tls.key");
    const install = async (names: string[]) => {
      const issued = await pki.issue(names);
      // Key first: the reloader waits for a matching pair either way.
      await writeFile(keyFile, issued.key);
      await writeFile(certFile, issued.chain);
      return issued;
    };
    const first = await install(["127.0.0.1"]);
    const tlsBerth = await startBerth({
      env: { BERTH_TLS_CERT_FILE: certFile, BERTH_TLS_KEY_FILE: keyFile, BERTH_TLS_RELOAD_SECONDS: "1", BERTH_MIRROR_ADDR: "127.0.0.1:0", BERTH_MIRROR_PROJECT: "hub" },
    });
    const agent = new Agent({ connect: { ca: await readFile(pki.rootFile) } });
    try {
      expect(tlsBerth.mirrorUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(new URL(tlsBerth.mirrorUrl!).port);
      expect(await presented(port, await readFile(pki.rootFile), "127.0.0.1")).toBe(first.fingerprint256);
      const ping = await fetch(`${tlsBerth.mirrorUrl}/v2/`, { dispatcher: agent } as RequestInit);
      expect(ping.status).toBe(401);
      expect(ping.headers.get("www-authenticate")).toBe(`Bearer realm="${tlsBerth.mirrorUrl}/service/token",service="berth"`);
      const renewed = await install(["127.0.0.1", "localhost"]);
      await waitUntil(async () => (await presented(port, await readFile(pki.rootFile), "127.0.0.1")) === renewed.fingerprint256, "the mirror to serve the renewed certificate");
    } finally {
      await agent.close();
      await tlsBerth.close();
      await Promise.allSettled([rm(work, { recursive: true, force: true }), pki.remove()]);
    }
  });
});
