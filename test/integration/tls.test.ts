/**
 * `berth serve` with BERTH_TLS_CERT_FILE/BERTH_TLS_KEY_FILE: real verifying clients (curl, skopeo, podman) trust it
 * through a test CA, plain http is refused, a renewed certificate on disk is served without a restart (a half
 * renewed pair is not), and the in-process clients (the embedded controller, replication's local side) keep working
 * when the certificate does not name the loopback address they use, before and after a renewal.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent } from "undici";
import { ADMIN_AUTH, ADMIN_CREDS, ADMIN_PASSWORD, prepareEnvironment, spawnBerth, startBerth, type BerthProcess, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { createTestPki, presented, type IssuedCertificate, type TestPki } from "../support/certificates";
import { runCli } from "../support/cli";
import { EXAMPLE_POLICIES } from "../support/policy-repo";
import { buildLayer, writeImage } from "../support/oci-image";
import { RegistryClient } from "../support/registry-client";
import { copy, inspect } from "../support/skopeo";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) =>
    execFile(command, args, { env: { ...process.env, NODE_OPTIONS: "", ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const agents: Agent[] = [];
afterAll(() => Promise.all(agents.map((agent) => agent.destroy())));

/** Request options trusting only the test root (and checking the name `servername` when the URL's host is not it). */
function trusting(ca: Buffer, servername?: string): RequestInit {
  const agent = new Agent({ connect: { ca, ...(servername ? { servername } : {}) } });
  agents.push(agent);
  return { dispatcher: agent } as RequestInit;
}

/**
 * The served files as cert-manager lays out a mounted Secret: `tls.crt` and `tls.key` are links into `..data`, itself
 * a link to one generation's directory; a renewal writes a new generation and swaps `..data` in one rename.
 */
class ServedFiles {
  readonly certFile: string;
  readonly keyFile: string;
  private generation = 0;

  constructor(readonly dir: string) {
    this.certFile = path.join(dir, "tls.crt");
    this.keyFile = path.join(dir, "tls.key");
  }

  async install(pair: IssuedCertificate): Promise<void> {
    const generation = path.join(this.dir, `..gen-${++this.generation}`);
    await mkdir(generation);
    await writeFile(path.join(generation, "tls.crt"), pair.chain);
    await writeFile(path.join(generation, "tls.key"), pair.key, { mode: 0o600 });
    const next = path.join(this.dir, "..data-next");
    await symlink(path.basename(generation), next);
    await rename(next, path.join(this.dir, "..data"));
    if (this.generation === 1) {
      await symlink("..data/tls.crt", this.certFile);
      await symlink("..data/tls.key", this.keyFile);
    }
  }
}

describeWithTool("openssl", "Berth serving HTTPS with a certificate for 127.0.0.1 and localhost", () => {
  let pki: TestPki;
  let root: Buffer;
  let work: string;
  /** A directory holding only ca.crt (the test root), as skopeo's and podman's --cert-dir take it. */
  let certDir: string;
  let files: ServedFiles;
  let served: IssuedCertificate;
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let server: BerthProcess;
  let port: number;
  let admin: RegistryClient;

  beforeAll(async () => {
    pki = await createTestPki();
    root = await readFile(pki.rootFile);
    work = await mkdtemp(path.join(tmpdir(), "berth-tls-"));
    certDir = path.join(work, "certs");
    await mkdir(certDir);
    await writeFile(path.join(certDir, "ca.crt"), root);
    files = new ServedFiles(path.join(work, "served"));
    await mkdir(files.dir);
    served = await pki.issue(["127.0.0.1", "localhost"]);
    await files.install(served);
    environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
    server = await spawnBerth({ ...environment.env, BERTH_TLS_CERT_FILE: files.certFile, BERTH_TLS_KEY_FILE: files.keyFile, BERTH_TLS_RELOAD_SECONDS: "1" });
    port = Number(new URL(server.url).port);
    admin = new RegistryClient(server.url, ADMIN_AUTH, trusting(root));
  }, 120_000);
  afterAll(async () => {
    await server?.kill("SIGTERM");
    // Each removal on its own: one that fails (a server that never became ready) must not leave the others behind.
    await Promise.allSettled([environment?.cleanup(), rm(work, { recursive: true, force: true }), pki?.remove()]);
  });

  it("listens on https and says so in its url", () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("tells browsers to keep to https (HSTS) on every answer", async () => {
    for (const path of ["/v2/", "/api/v2.0/projects", "/api/v2.0/nothing-here"]) {
      expect((await admin.fetch(path)).headers.get("strict-transport-security")).toBe("max-age=31536000");
    }
  });

  it("refuses to start, naming the variable, with a key that is not the certificate's or only one of the two files", async () => {
    const other = await pki.issue(["127.0.0.1"]);
    const otherKey = path.join(work, "other.key");
    await writeFile(otherKey, other.key);
    const mismatched = await runCli("berth", ["serve"], { ...environment.env, BERTH_TLS_CERT_FILE: files.certFile, BERTH_TLS_KEY_FILE: otherKey });
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain("BERTH_TLS_KEY_FILE");
    expect(mismatched.stderr).toContain("is not the private key of the certificate");
    const halfConfigured = await runCli("berth", ["serve"], { ...environment.env, BERTH_TLS_CERT_FILE: files.certFile });
    expect(halfConfigured.code).toBe(2);
    expect(halfConfigured.stderr).toContain("BERTH_TLS_KEY_FILE: is required when BERTH_TLS_CERT_FILE is set");
  });

  describeWithTool("curl", "with curl", () => {
    it("answers a client that trusts the CA, with an https token realm; refuses plain http and clients without the CA", async () => {
      const health = await run("curl", ["-sS", "--cacert", pki.rootFile, "-o", "/dev/null", "-w", "%{http_code}", `${server.url}/api/v2.0/health`]);
      expect(health).toMatchObject({ code: 0, stdout: "200" });
      const byName = await run("curl", ["-sS", "--cacert", pki.rootFile, "-o", "/dev/null", "-w", "%{http_code}", `https://localhost:${port}/api/v2.0/health`]);
      expect(byName).toMatchObject({ code: 0, stdout: "200" });

      const challenge = await run("curl", ["-sS", "--cacert", pki.rootFile, "-D", "-", "-o", "/dev/null", `${server.url}/v2/`]);
      expect(challenge.stdout).toMatch(/^HTTP\/1\.1 401/);
      expect(challenge.stdout.toLowerCase()).toContain(`www-authenticate: bearer realm="https://127.0.0.1:${port}/service/token",service="berth"`);
      const upload = await run("curl", ["-sS", "--cacert", pki.rootFile, "-u", ADMIN_CREDS, "-X", "POST", "-D", "-", "-o", "/dev/null", `${server.url}/v2/library/curl/blobs/uploads/`]);
      expect(upload.stdout).toMatch(/^HTTP\/1\.1 202/);
      // Without BERTH_PUBLIC_URL the Location is relative: the client resolves it against the https URL it used.
      expect(upload.stdout).toMatch(/\r\nlocation: \/v2\/library\/curl\/blobs\/uploads\/[^\r]+\r\n/i);

      const plain = await run("curl", ["-sS", `http://127.0.0.1:${port}/api/v2.0/health`]);
      expect(plain.code).not.toBe(0);
      const untrusted = await run("curl", ["-sS", `${server.url}/api/v2.0/health`]);
      expect(untrusted.code).toBe(60); // peer certificate cannot be authenticated with known CA certificates
    });
  });

  describeWithTool("skopeo", "with skopeo", () => {
    it("pushes and inspects with the CA in --cert-dir, and is refused without it", async () => {
      const layout = path.join(work, "layout");
      const image = await writeImage(layout, { tag: "1.0", layers: [await buildLayer({ "hello.txt": "over TLS" })] });
      const reference = `docker://${server.host}/library/skopeo-tls:1.0`;
      await copy(`oci:${layout}:1.0`, reference, { destCreds: ADMIN_CREDS, destTls: { certDir } });
      const inspected = await inspect(reference, { tls: { certDir } });
      expect(inspected.Digest).toBe(image.manifestDigest);
      await expect(inspect(reference, { tls: "system" })).rejects.toThrow(/x509|certificate/);
    });
  });

  describeWithTool("podman", "with podman", () => {
    it("logs in and pulls into a throwaway storage with the CA in --cert-dir", async () => {
      const pushed = await admin.pushUnpackableImage("library/podman-tls", "1.0");
      const storage = path.join(work, "podman");
      // Everything podman keeps (images, run state, temp files) stays under `storage`; so does the blob-info cache,
      // which containers/image puts under XDG_DATA_HOME once $_CONTAINERS_ROOTLESS_UID is set (see skopeo.ts).
      const global = ["--root", path.join(storage, "root"), "--runroot", path.join(storage, "run"), "--tmpdir", path.join(storage, "tmp"), "--storage-driver", "vfs", "--events-backend", "none"];
      const env = { XDG_DATA_HOME: path.join(storage, "data"), ...(process.geteuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: "1" } : {}) };
      const podman = (args: string[]) => run("podman", [...global, ...args], env);
      const authfile = path.join(storage, "auth.json");
      const policy = path.join(work, "policy.json");
      await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
      const login = await podman(["login", "--cert-dir", certDir, "--authfile", authfile, "-u", "admin", "-p", ADMIN_PASSWORD, server.host]);
      expect(login).toMatchObject({ code: 0, stderr: "" });
      expect(login.stdout).toContain("Login Succeeded");
      const reference = `${server.host}/library/podman-tls:1.0`;
      const pull = await podman(["pull", "--quiet", "--cert-dir", certDir, "--authfile", authfile, "--signature-policy", policy, `docker://${reference}`]);
      expect(pull).toMatchObject({ code: 0, stderr: "" });
      const digest = await podman(["image", "inspect", "--format", "{{.Digest}}", reference]);
      expect(digest.stdout.trim()).toBe(pushed);
      const refused = await podman(["login", "--authfile", authfile, "-u", "admin", "-p", ADMIN_PASSWORD, server.host]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/x509|certificate/);
    });
  });

  it("serves a renewed certificate without a restart, and keeps serving the current one while the files on disk do not match", async () => {
    expect(await presented(port, root, "localhost")).toBe(served.fingerprint256);

    // cert-manager's way: a new generation behind the ..data link.
    const renewed = await pki.issue(["127.0.0.1", "localhost"]);
    await files.install(renewed);
    await waitUntil(async () => (await presented(port, root, "localhost")) === renewed.fingerprint256, "the renewed certificate to be served");
    // The log line follows the switch: the handshake above may see the new certificate before the line is read.
    const renewalLine = new RegExp(`"serial":"${renewed.serial}".*serving a renewed TLS certificate`);
    await waitUntil(() => renewalLine.test(server.output()), "the renewal to be logged");
    expect((await admin.fetch("/api/v2.0/health")).status).toBe(200);

    // An ACME client's way, caught halfway: the new certificate is on disk, its key is not yet.
    const next = await pki.issue(["127.0.0.1", "localhost"]);
    const logged = server.output().length;
    await writeFile(files.certFile, next.chain);
    await waitUntil(() => server.output().slice(logged).includes("not a valid pair (yet); still serving the previous certificate"), "the half-written pair to be refused");
    expect(await presented(port, root, "localhost")).toBe(renewed.fingerprint256);
    await writeFile(files.keyFile, next.key);
    await waitUntil(async () => (await presented(port, root, "localhost")) === next.fingerprint256, "the completed pair to be served");
  });
});

describeWithTool("openssl", "in-process clients of a Berth whose certificate does not name 127.0.0.1", () => {
  const NAME = "registry.example.test";
  let pki: TestPki;
  let root: Buffer;
  let work: string;
  let files: ServedFiles;
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let server: BerthProcess;
  let source: TestBerth;
  let admin: RegistryClient;
  let sourceId: number;

  const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const created = async (response: Response) => {
    expect(response.status).toBe(201);
    return Number(response.headers.get("location")!.split("/").pop());
  };
  /** Runs a pull of `tag` from the source and waits for the execution to end. */
  const replicate = async (tag: string) => {
    const policy = await created(await admin.fetch("/api/v2.0/replication/policies", json("POST", { name: `pull-${tag.replace(/\./g, "-")}`, src_registry: { id: sourceId }, dest_namespace: "mirror", filters: [{ type: "tag", value: tag }], trigger: { type: "manual" } })));
    const execution = await created(await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policy })));
    let status = "InProgress";
    await waitUntil(async () => (status = ((await (await admin.fetch(`/api/v2.0/replication/executions/${execution}`)).json()) as { status: string }).status) !== "InProgress", "the replication to end");
    return status;
  };
  const aliceInPlatform = async () => {
    const members = (await (await admin.fetch("/api/v2.0/projects/platform/members")).json().catch(() => [])) as { id: number; entity_name: string }[];
    return Array.isArray(members) ? members.find((m) => m.entity_name === "alice") : undefined;
  };

  beforeAll(async () => {
    pki = await createTestPki();
    root = await readFile(pki.rootFile);
    work = await mkdtemp(path.join(tmpdir(), "berth-tls-loopback-"));
    files = new ServedFiles(work);
    await files.install(await pki.issue([NAME]));
    source = await startBerth();
    await new RegistryClient(source.url).pushImage("library/app", "1.0");
    await new RegistryClient(source.url).pushImage("library/app", "2.0");
    environment = await prepareEnvironment(RECEIVERS_ON_LOOPBACK);
    server = await spawnBerth({
      ...environment.env,
      // The embedded controller reconciles the example policies, correcting drift every 2 s.
      BERTH_CONTROLLER_REPO: EXAMPLE_POLICIES,
      ALICE_INITIAL_PASSWORD: "Alice-Initial-Passw0rd",
      BERTH_CONTROLLER_SCHEDULE: "*/2 * * * * *",
      BERTH_TLS_CERT_FILE: files.certFile,
      BERTH_TLS_KEY_FILE: files.keyFile,
      BERTH_TLS_RELOAD_SECONDS: "1",
    });
    admin = new RegistryClient(server.url, ADMIN_AUTH, trusting(root, NAME));
    sourceId = await created(await admin.fetch("/api/v2.0/registries", json("POST", { name: "source", type: "berth", url: source.url })));
  }, 120_000);
  afterAll(async () => {
    await server?.kill("SIGTERM");
    await Promise.allSettled([environment?.cleanup(), source?.close(), rm(work, { recursive: true, force: true }), pki?.remove()]);
  });

  it("is not trusted for 127.0.0.1 by an ordinary client", async () => {
    await expect(fetch(`${server.url}/api/v2.0/health`, trusting(root))).rejects.toThrow();
  });

  it("lets the embedded controller and replication's local side reach it over the loopback, also after a renewal", async () => {
    await waitUntil(async () => (await aliceInPlatform()) !== undefined, "the embedded controller to apply the example policies");
    expect(await replicate("1.0")).toBe("Succeed");
    expect(await admin.digestOf("mirror/app", "1.0")).not.toBeNull();

    const renewed = await pki.issue([NAME]);
    await files.install(renewed);
    await waitUntil(async () => (await presented(Number(new URL(server.url).port), root, NAME)) === renewed.fingerprint256, "the renewed certificate to be served");

    // Drift the controller corrects on its next scheduled run: the renewal dropped the old loopback connections, so
    // this goes through a new one that must trust the renewed certificate.
    expect((await admin.fetch(`/api/v2.0/projects/platform/members/${(await aliceInPlatform())!.id}`, { method: "DELETE" })).status).toBe(200);
    await waitUntil(async () => (await aliceInPlatform()) !== undefined, "the controller to put alice back after the renewal");
    expect(await replicate("2.0")).toBe("Succeed");
    expect(await admin.digestOf("mirror/app", "2.0")).not.toBeNull();
    expect(server.output()).not.toMatch(/"level":50/);
  });
});
