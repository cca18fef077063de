/**
 * The Pulumi stacks and the service agree on every setting: the environment the stacks render is exactly what
 * `loadConfig` reads, the controller's variables are the documented ones, and a real `berth serve` starts with that
 * environment (the remote services swapped for local ones: s3rver for MinIO, a test database for PostgreSQL).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { loadConfig } from "../../registry/config";
import { controllerEnvironment, registryEnvironment } from "../../stacks/environment";
import { prepareEnvironment, spawnBerth } from "../support/berth";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { startS3 } from "../support/s3";

const controller = { repo: "https://git.example.com/policies.git", branch: "main", schedule: "*/5 * * * *" };
const rendered = registryEnvironment(
  {
    databaseUrl: "postgres://berth:secret@postgres:5432/berth",
    s3Endpoint: "http://minio:9000",
    bucket: "berth-blobs",
    s3AccessKey: "minio-key",
    s3SecretKey: "minio-secret",
    adminPassword: "Rendered-Admin-Passw0rd",
    publicUrl: "https://registry.example.com",
  },
  controller,
);

it("renders only variables the registry reads, and the registry accepts their values", () => {
  const read = new Set<string>();
  const recording = new Proxy(rendered, {
    get: (target, key: string) => {
      read.add(key);
      return target[key];
    },
  });
  const config = loadConfig(recording as NodeJS.ProcessEnv);
  expect(Object.keys(rendered).filter((key) => !read.has(key))).toEqual([]);
  expect(config.storage).toEqual({ kind: "s3", endpoint: "http://minio:9000", bucket: "berth-blobs", region: "us-east-1", accessKey: "minio-key", secretKey: "minio-secret" });
  expect(config.publicUrl).toBe("https://registry.example.com");
  expect(config.controller.repo).toBe("off");
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
