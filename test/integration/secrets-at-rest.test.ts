import { randomBytes } from "node:crypto";
import { chmod, lstat, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { loadConfig } from "../../registry/config";
import { openDatabase } from "../../registry/db/open";
import type { Sql } from "../../registry/db/sql";
import { PRIVATE_MARKER } from "../../registry/secrets/private-data-dir";
import { newSecretKeyText, readSecretBox } from "../../registry/secrets/secret-key";
import { prepareEnvironment, RECEIVERS_ON_LOOPBACK, spawnBerth } from "../support/berth";
import { runCli } from "../support/cli";
import { RegistryClient } from "../support/registry-client";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** Answers everything: records the Authorization headers it is sent (webhook deliveries, registry health checks). */
class Receiver {
  readonly authorizations: string[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.headers.authorization) this.authorizations.push(request.headers.authorization);
      request.resume();
      request.on("end", () => {
        if (request.url === "/v2/" && !request.headers.authorization) {
          response.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' }).end();
          return;
        }
        response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

async function walk(dir: string): Promise<{ file: string; mode: number; isDirectory: boolean }[]> {
  const found: { file: string; mode: number; isDirectory: boolean }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const { mode } = await lstat(file);
    found.push({ file, mode: mode & 0o777, isDirectory: entry.isDirectory() });
    if (entry.isDirectory()) found.push(...(await walk(file)));
  }
  return found;
}

/** Files and directories other users have any permission on. */
async function exposed(dataDir: string): Promise<string[]> {
  const root = (await lstat(dataDir)).mode & 0o777;
  const below = (await walk(dataDir)).filter((entry) => (entry.mode & 0o077) !== 0).map((entry) => `${entry.file} ${entry.mode.toString(8)}`);
  return root === 0o700 ? below : [`${dataDir} ${root.toString(8)}`, ...below];
}

/** Which of `needles` occur in the raw bytes of any file under `dir` (database files and WAL included). */
async function foundInFiles(dir: string, needles: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const entry of await walk(dir)) {
    if (entry.isDirectory) continue;
    const bytes = await readFile(entry.file);
    for (const needle of needles) if (bytes.includes(needle)) found.add(`${needle.slice(0, 12)}… in ${path.relative(dir, entry.file)}`);
  }
  return [...found];
}

/** The stored (raw) values of every column that holds a secret. */
async function storedSecrets(sql: Sql): Promise<{ signingKey: string; registry: string[]; policies: string[]; deliveries: string[] }> {
  const [key] = await sql.query<{ value: string }>("SELECT value FROM settings WHERE key = 'token_signing_key'");
  const registry = await sql.query<{ access_secret: string }>("SELECT access_secret FROM registries ORDER BY id");
  const policies = await sql.query<{ targets: string }>("SELECT targets::text AS targets FROM webhook_policies ORDER BY id");
  const deliveries = await sql.query<{ target: string }>("SELECT target::text AS target FROM webhook_deliveries ORDER BY id");
  return { signingKey: key.value, registry: registry.map((r) => r.access_secret), policies: policies.map((p) => p.targets), deliveries: deliveries.map((d) => d.target) };
}

describe("data at rest", () => {
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let env: Record<string, string>;
  let receiver: Receiver;
  const registryPassword = `Registry-Pass-${randomBytes(8).toString("hex")}`;
  const authHeader = `Bearer hook-${randomBytes(8).toString("hex")}`;
  const signingSecret = `sign-${randomBytes(8).toString("hex")}`;
  const keyFile = () => path.join(environment.dataDir, "secretkey");
  const withDatabase = async <T>(work: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = await openDatabase(loadConfig(env), "doctor");
    try {
      return await work(sql);
    } finally {
      await sql.close();
    }
  };

  beforeAll(async () => {
    environment = await prepareEnvironment({ ...RECEIVERS_ON_LOOPBACK });
    // The key a first start generates in the data directory (the test environment's shared key file is for two nodes).
    env = { ...environment.env };
    delete env.BERTH_SECRET_KEY_FILE;
    receiver = new Receiver();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await environment.cleanup();
  });

  it("keeps the data directory private and no secret readable in its files or columns", async () => {
    const berth = await spawnBerth(env);
    try {
      const admin = new RegistryClient(berth.url);
      expect((await admin.fetch("/api/v2.0/projects/library/webhook/policies", json("POST", {
        name: "hook",
        event_types: ["PUSH_ARTIFACT"],
        targets: [{ address: `${receiver.url}/hook`, auth_header: authHeader, secret: signingSecret }],
      }))).status).toBe(201);
      await admin.pushImage("library/app", "v1");
      expect((await admin.fetch("/api/v2.0/registries", json("POST", {
        name: "upstream",
        type: "docker-registry",
        url: receiver.url,
        credential: { type: "basic", access_key: "bot", access_secret: registryPassword },
      }))).status).toBe(201);
      // Both secrets still work: they are decrypted where they are used.
      await waitUntil(() => receiver.authorizations.includes(authHeader), "the webhook delivery with its Authorization header");
      await waitUntil(() => receiver.authorizations.includes(`Basic ${Buffer.from(`bot:${registryPassword}`).toString("base64")}`), "the endpoint's health check with its password");
      // While running, no other user can enter the directory, nor any directory below it.
      expect((await lstat(environment.dataDir)).mode & 0o777).toBe(0o700);
      expect((await walk(environment.dataDir)).filter((e) => e.isDirectory && (e.mode & 0o077) !== 0)).toEqual([]);
    } finally {
      await berth.kill("SIGTERM");
    }
    expect(await exposed(environment.dataDir)).toEqual([]);
    expect((await lstat(keyFile())).mode & 0o777).toBe(0o600);
    expect((await runCli("berth", ["doctor"], env)).stdout).toContain(`ok   secret key: ${keyFile()} (mode 0600) is the key the database's secrets are encrypted with`);

    const stored = await withDatabase(storedSecrets);
    const pem = readSecretBox(keyFile()).open(stored.signingKey);
    expect(pem).toContain("PRIVATE KEY");
    const pemLines = pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));
    for (const value of [stored.signingKey, ...stored.registry]) expect(value).toMatch(/^enc:v1:/);
    for (const text of [...stored.policies, ...stored.deliveries, stored.signingKey, ...stored.registry]) {
      for (const secret of [registryPassword, authHeader, signingSecret, ...pemLines]) expect(text).not.toContain(secret);
    }
    if (!environment.databaseUrl) {
      expect(await foundInFiles(environment.dataDir, [registryPassword, authHeader, signingSecret, ...pemLines])).toEqual([]);
    }
  });

  it("encrypts secrets an older version stored in plain text when it starts, and they keep working", async () => {
    const pem = await withDatabase(async (sql) => {
      const box = readSecretBox(keyFile());
      const [key] = await sql.query<{ value: string }>("SELECT value FROM settings WHERE key = 'token_signing_key'");
      const plainPem = box.open(key.value);
      await sql.query("UPDATE settings SET value = $1 WHERE key = 'token_signing_key'", [plainPem]);
      await sql.query("UPDATE registries SET access_secret = 'Old-Plain-Password'");
      const plainTargets = JSON.stringify([{ type: "http", address: `${receiver.url}/hook`, auth_header: "Bearer old-plain", skip_cert_verify: false, payload_format: "Default", secret: "old-sign" }]);
      await sql.query("UPDATE webhook_policies SET targets = $1::jsonb", [plainTargets]);
      await sql.query("UPDATE webhook_deliveries SET target = $1::jsonb", [JSON.stringify(JSON.parse(plainTargets)[0])]);
      return plainPem;
    });
    const berth = await spawnBerth(env);
    try {
      const admin = new RegistryClient(berth.url);
      // The token signing key still signs: a bearer token from the token service is accepted on /v2.
      const token = (await (await admin.fetch("/service/token?service=berth&scope=repository:library/app:pull")).json()) as { token: string };
      expect((await fetch(`${berth.url}/v2/library/app/tags/list`, { headers: { Authorization: `Bearer ${token.token}` } })).status).toBe(200);
      receiver.authorizations.length = 0;
      expect((await admin.fetch("/api/v2.0/registries/ping", json("POST", { id: 1 }))).status).toBe(200);
      expect(receiver.authorizations).toContain(`Basic ${Buffer.from("bot:Old-Plain-Password").toString("base64")}`);
    } finally {
      await berth.kill("SIGTERM");
    }
    const stored = await withDatabase(storedSecrets);
    const box = readSecretBox(keyFile());
    expect(box.open(stored.signingKey)).toBe(pem);
    expect(stored.signingKey).toMatch(/^enc:v1:/);
    expect(stored.registry).toEqual([expect.stringMatching(/^enc:v1:/)]);
    expect(box.open(stored.registry[0])).toBe("Old-Plain-Password");
    for (const text of [...stored.policies, ...stored.deliveries]) {
      expect(text).not.toContain("old-plain");
      expect(text).not.toContain("old-sign");
    }
    const [policyTarget] = JSON.parse(stored.policies[0]) as { auth_header: string }[];
    expect(box.open(policyTarget.auth_header)).toBe("Bearer old-plain");
  });

  it("refuses to start with another key, naming BERTH_SECRET_KEY_FILE, without a stack", async () => {
    const original = await readFile(keyFile());
    await writeFile(keyFile(), newSecretKeyText(), { mode: 0o600 });
    try {
      const { code, stdout, stderr } = await runCli("berth", ["serve"], env);
      const output = stdout + stderr;
      expect(code).toBe(2);
      expect(output).toMatch(/^berth: cannot start: BERTH_SECRET_KEY_FILE: the database was set up with another secret key; the key in \S+secretkey is not the one/m);
      expect(output).not.toMatch(/\n\s+at /);
      const doctor = await runCli("berth", ["doctor"], env);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toContain(`FAIL secret key: ${keyFile()} is not the key the database's secrets were encrypted with\n     fix: give this node the same BERTH_SECRET_KEY_FILE as the others`);
    } finally {
      await writeFile(keyFile(), original, { mode: 0o600 });
    }
  });

  it("refuses a key file other users can read", async () => {
    await chmod(keyFile(), 0o644);
    try {
      const { code, stderr } = await runCli("berth", ["serve"], env);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^berth: invalid configuration: BERTH_SECRET_KEY_FILE: \S+secretkey is readable or writable by other users \(mode 0644\): chmod 600 it/m);
    } finally {
      await chmod(keyFile(), 0o600);
    }
  });

  it("makes a data directory from an older version private on start, once", async () => {
    for (const entry of await walk(environment.dataDir)) await chmod(entry.file, entry.isDirectory ? 0o755 : 0o644);
    await chmod(environment.dataDir, 0o755);
    await chmod(keyFile(), 0o600);
    await rm(path.join(environment.dataDir, PRIVATE_MARKER));
    const berth = await spawnBerth(env);
    await berth.kill("SIGTERM");
    expect(await exposed(environment.dataDir)).toEqual([]);
    expect(berth.output()).toMatch(/removed group and other permissions from the data directory/);
  });
});

