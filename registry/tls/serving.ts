import type { Server } from "node:tls";
import type { FastifyInstance } from "fastify";
import type { TlsConfig } from "../config";
import { describeCertificate, readCertificatePair, type CertificatePair } from "./certificate-pair";
import { LoopbackTrust } from "./loopback";
import { CertificateReloader } from "./reloader";

export interface ServingTls {
  cert: Buffer;
  key: Buffer;
  loopbackFetch: typeof fetch;
  /**
   * Once listening: log the certificate and start polling its files; a renewed pair is served (by the app and by
   * `others`, the mirror listener) and pinned.
   */
  watch(app: FastifyInstance, others?: Server[]): void;
  /** Stops polling and closes the loopback connections. */
  close(): Promise<void>;
}

/** HTTPS for the server: the pair from BERTH_TLS_CERT_FILE/KEY_FILE, its reloads, and the loopback that trusts it. */
export async function startServingTls(config: TlsConfig): Promise<ServingTls> {
  const served: CertificatePair = await readCertificatePair(config);
  const loopback = new LoopbackTrust(served);
  let reloader: CertificateReloader | null = null;
  return {
    cert: served.cert,
    key: served.key,
    loopbackFetch: loopback.fetch,
    watch(app, others = []) {
      app.log.info(describeCertificate(served.leaf), "serving TLS");
      reloader = new CertificateReloader({
        files: config,
        served,
        intervalMs: config.reloadSeconds * 1000,
        log: app.log,
        apply: (pair) => {
          for (const server of [app.server as unknown as Server, ...others]) server.setSecureContext({ cert: pair.cert, key: pair.key });
          loopback.pin(pair);
        },
      });
      reloader.start();
    },
    async close() {
      await reloader?.stop();
      await loopback.close();
    },
  };
}
