import { randomBytes } from "node:crypto";
import { Server as TlsServer } from "node:tls";
import type { FastifyInstance } from "fastify";
import type { Principal } from "./auth/principal";
import { buildApp } from "./app";
import { applyAuthMode } from "./auth/auth-mode";
import { bootstrap } from "./bootstrap";
import type { Config } from "./config";
import { loadSigningKey } from "./auth/token-keys";
import { migrate } from "./db/migrate";
import { openDatabase } from "./db/open";
import type { Sql } from "./db/sql";
import { Metrics } from "./ops/metrics";
import { startMetricsListener, type MetricsListener } from "./ops/metrics-listener";
import type { Resolver } from "./outbound/address-guard";
import { verifySecretKey } from "./secrets/key-check";
import { makeDataDirPrivate } from "./secrets/private-data-dir";
import { resealStoredSecrets } from "./secrets/reseal";
import { loadSecretBox } from "./secrets/secret-key";
import { checkBlobStore, openBlobStore } from "./storage/open";
import { startServingTls, type ServingTls } from "./tls/serving";
import { createMirrorListener, listenMirror, type MirrorListener } from "./mirror/listener";

export interface RunningServer {
  app: FastifyInstance;
  sql: Sql;
  /** Where the server listens, e.g. http://127.0.0.1:5000 (https://… with BERTH_TLS_CERT_FILE). */
  url: string;
  /** Where `GET /metrics` answers (BERTH_METRICS_ADDR, the port actually bound); unset when metrics are off. */
  metricsUrl?: string;
  /** Where the registry mirror listens (BERTH_MIRROR_ADDR, the port actually bound); unset without one. */
  mirrorUrl?: string;
  /**
   * fetch for requests to `url` from inside this process: with TLS it trusts exactly the certificate being served
   * (which need not name the loopback address), otherwise it is the global fetch.
   */
  loopbackFetch: typeof fetch;
  /** Set when the admin password was generated on this (first) start. */
  generatedAdminPassword?: string;
  /** With `internalAccess`: the Authorization header value that acts as a system admin, valid in this process only. */
  internalAuthorization?: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * The embedded controller's identity: a system admin named `system:controller` in audit records (acting through the
 * first admin account, which owns what it creates), with a secret that never leaves this process.
 */
async function internalPrincipal(sql: Sql): Promise<{ secret: string; principal: Principal }> {
  const [admin] = await sql.query<{ id: number }>("SELECT id FROM users WHERE sysadmin ORDER BY id LIMIT 1");
  return { secret: randomBytes(32).toString("base64url"), principal: { kind: "user", id: admin.id, username: "system:controller", sysadmin: true } };
}

/**
 * Makes the data directory private and loads the secret key, then opens the database (migrating it, checking the key
 * against it and encrypting secrets an older version stored in plain text), the blob store and the HTTP server.
 */
export async function startServer(config: Config, options: { sql?: Sql; internalAccess?: boolean; resolve?: Resolver } = {}): Promise<RunningServer> {
  const privacy = await makeDataDirPrivate(config.dataDir);
  const secrets = loadSecretBox(config);
  const sql = options.sql ?? (await openDatabase(config));
  let tls: ServingTls | undefined;
  let metricsListener: MetricsListener | undefined;
  let mirror: MirrorListener | undefined;
  try {
    await migrate(sql);
    await verifySecretKey(sql, secrets);
    const resealed = await resealStoredSecrets(sql, secrets);
    const { generatedPassword } = await bootstrap(sql, config.adminPassword);
    const authMode = await applyAuthMode(sql, config.authMode, config.authModeForce);
    const store = await openBlobStore(config);
    await checkBlobStore(store, config);
    const signingKey = await loadSigningKey(sql, secrets, config.tokenKeyFile);
    const internal = options.internalAccess ? await internalPrincipal(sql) : undefined;
    tls = config.tls ? await startServingTls(config.tls) : undefined;
    const metrics = new Metrics();
    // Before the registry port: a taken metrics port stops the start before any client is served.
    metricsListener = config.metricsAddress ? await startMetricsListener(metrics, config.metricsAddress.host, config.metricsAddress.port) : undefined;
    mirror = config.mirror?.address ? createMirrorListener(tls) : undefined;
    const mirrorServer = mirror?.server;
    const app = await buildApp({
      config,
      sql,
      store,
      signingKey,
      secrets,
      internal,
      tls,
      metrics,
      embeddedController: config.controller.repo !== "off",
      resolve: options.resolve,
      mirrorAddress: mirrorServer && (() => mirrorServer.address()),
    });
    if (privacy.problem) app.log.warn(privacy.problem);
    if (privacy.tightened > 0) app.log.info({ files: privacy.tightened, dataDir: config.dataDir }, "removed group and other permissions from the data directory");
    if (authMode.switched) app.log.warn({ from: authMode.from, to: config.authMode }, "switched the auth mode");
    if (resealed > 0) app.log.info({ rows: resealed }, "encrypted secrets an older version stored in plain text");
    const address = await app.listen({ host: config.host, port: config.port });
    if (mirror) await listenMirror(mirror, app, config.mirror!.address!);
    const metricsServing = metricsListener;
    const mirrorServing = mirror;
    const serving = tls;
    serving?.watch(app, mirrorServing?.server instanceof TlsServer ? [mirrorServing.server] : []);
    return {
      app,
      sql,
      url: address.replace("[::]", "127.0.0.1").replace("0.0.0.0", "127.0.0.1"),
      metricsUrl: metricsServing?.url,
      mirrorUrl: mirrorServing?.url(),
      loopbackFetch: serving?.loopbackFetch ?? fetch,
      generatedAdminPassword: generatedPassword,
      internalAuthorization: internal ? `Berth-Internal ${internal.secret}` : undefined,
      close: async () => {
        await metricsServing?.close();
        // Its requests are the app's: they finish before the app (and the database) closes.
        await mirrorServing?.close();
        await app.close();
        await serving?.close();
        await sql.close();
      },
    };
  } catch (error) {
    await metricsListener?.close();
    await mirror?.close();
    await tls?.close();
    await sql.close().catch(() => undefined);
    throw error;
  }
}
