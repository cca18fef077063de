/**
 * The Pulumi stacks and the service agree on every setting: the environment the stacks render is exactly what
 * `loadConfig` reads, the controller's variables are the documented ones, and a real `berth serve` starts with that
 * environment (the remote services swapped for local ones: s3rver for MinIO, a test database for PostgreSQL).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../registry/config";
import { controllerEnvironment, registryEnvironment } from "../../stacks/environment";
import { prepareEnvironment, spawnBerth } from "../support/berth";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { startS3 } from "../support/s3";
import { createTestPki } from "../support/certificates";
import { describeWithTool } from "../support/tools";

const controller = { repo: "https://git.example.com/policies.git", branch: "main", schedule: "*/5 * * * *" };
const endpoints = {
  databaseUrl: "postgres://berth:secret@postgres:5432/berth",
  s3Endpoint: "http://minio:9000",
  bucket: "berth-blobs",
  s3AccessKey: "minio-key",
  s3SecretKey: "minio-secret",
  adminPassword: "Rendered-Admin-Passw0rd",
  publicUrl: "https://registry.example.com",
};
const rendered = registryEnvironment(endpoints, controller);

/** loadConfig over `env`, and the rendered variables it never looked at. */
function loadRecording(env: Record<string, string>) {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get: (target, key: string) => {
      read.add(key);
      return target[key];
    },
  });
  const config = loadConfig(recording as NodeJS.ProcessEnv);
  return { config, unread: Object.keys(env).filter((key) => !read.has(key)) };
}

it("renders only variables the registry reads, and the registry accepts their values", () => {
  const { config, unread } = loadRecording(rendered as Record<string, string>);
  expect(unread).toEqual([]);
  expect(config.storage).toEqual({ kind: "s3", endpoint: "http://minio:9000", bucket: "berth-blobs", region: "us-east-1", accessKey: "minio-key", secretKey: "minio-secret", partSize: 8 * 1024 * 1024, redirectSeconds: 0 });
  expect(config.publicUrl).toBe("https://registry.example.com");
  expect(config.controller.repo).toBe("off");
});

it("leaves metrics on the registry's loopback default unless the target asks for an address, which the registry accepts", () => {
  expect(rendered).not.toHaveProperty("BERTH_METRICS_ADDR");
  expect(loadConfig(rendered as Record<string, string>).metricsAddress).toEqual({ host: "127.0.0.1", port: 9090 });
  const { config, unread } = loadRecording(registryEnvironment(endpoints, controller, { metricsAddress: "0.0.0.0:9090" }) as Record<string, string>);
  expect(unread).toEqual([]);
  expect(config.metricsAddress).toEqual({ host: "0.0.0.0", port: 9090 });
});

it("renders the proxies in front as BERTH_TRUSTED_PROXIES, which the registry reads and accepts, and nothing without them", () => {
  const { config, unread } = loadRecording(registryEnvironment(endpoints, controller, { trustedProxies: ["10.42.0.0/16", "fd00::/8"] }) as Record<string, string>);
  expect(unread).toEqual([]);
  expect(config.trustedProxies).toEqual(["10.42.0.0/16", "fd00::/8"]);
  expect(rendered).not.toHaveProperty("BERTH_TRUSTED_PROXIES");
});

describeWithTool("openssl", "where Berth terminates TLS itself (the hosts target)", () => {
  it("renders the certificate files and port 443, which the registry reads and accepts", async () => {
    const pki = await createTestPki();
    const dir = await mkdtemp(path.join(tmpdir(), "berth-stack-tls-"));
    try {
      const issued = await pki.issue(["registry.example.com"]);
      const tls = { certFile: path.join(dir, "tls.crt"), keyFile: path.join(dir, "tls.key") };
      await writeFile(tls.certFile, issued.chain);
      await writeFile(tls.keyFile, issued.key);
      const { config, unread } = loadRecording(registryEnvironment(endpoints, controller, { tls }) as Record<string, string>);
      expect(unread).toEqual([]);
      expect(config).toMatchObject({ port: 443, tls: { ...tls, reloadSeconds: 10 } });
    } finally {
      await rm(dir, { recursive: true, force: true });
      await pki.remove();
    }
  });
});

it("renders for the controller only the variables the README documents", async () => {
  const readme = await readFile(path.join(__dirname, "..", "..", "README.md"), "utf8");
  for (const key of Object.keys(controllerEnvironment("http://berth:5000", "x", controller))) expect(readme).toContain(`\`${key}\``);
});

it("starts a real berth serve with exactly the rendered names", async () => {
  const s3 = await startS3("berth-blobs");
  const local = await prepareEnvironment({});
  try {
    const env: Record<string, string> = {
      ...(rendered as Record<string, string>),
      // Only values change: where the services are on this machine.
      BERTH_ADDR: "127.0.0.1:0",
      BERTH_DATA_DIR: local.dataDir,
      BERTH_S3_ENDPOINT: s3.settings.endpoint,
      BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
      BERTH_S3_SECRET_KEY: s3.settings.secretKey,
    };
    if (local.databaseUrl) env.BERTH_DATABASE_URL = local.databaseUrl;
    else delete env.BERTH_DATABASE_URL; // no server here: embedded PGlite
    const server = await spawnBerth(env);
    try {
      const admin = new RegistryClient(server.url, basicAuth("admin", "Rendered-Admin-Passw0rd"));
      expect((await admin.fetch("/api/v2.0/health")).status).toBe(200);
      expect((await admin.fetch("/api/v2.0/users/current")).status).toBe(200);
    } finally {
      await server.kill("SIGTERM");
    }
  } finally {
    await local.cleanup();
    await s3.close();
  }
});
