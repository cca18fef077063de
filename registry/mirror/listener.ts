import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { answerUnparsableRequest } from "../ops/unparsable-requests";
import { markMirrorListenerRequest } from "./mirror";

export interface MirrorListener {
  server: http.Server | https.Server;
  /** Where the mirror answers, e.g. http://127.0.0.1:5001 (the port actually bound); set once listening. */
  url(): string;
  /** Stops accepting connections and waits for the ones in use to finish their requests. */
  close(): Promise<void>;
}

/**
 * The mirror's own port (BERTH_MIRROR_ADDR): a second server, HTTPS with the main one's certificate when that is
 * served (its renewals are applied here too), whose every request is handed to the same fastify instance marked as
 * a mirror request. Created before the app so that the outbound guard counts its address as this registry's own.
 */
export function createMirrorListener(tls: { cert: Buffer; key: Buffer } | undefined): MirrorListener {
  const server: http.Server | https.Server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
  const scheme = tls ? "https" : "http";
  return {
    server,
    url() {
      const address = server.address() as AddressInfo;
      const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "[::1]" : address.address.includes(":") ? `[${address.address}]` : address.address;
      return `${scheme}://${host}:${address.port}`;
    },
    async close() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections would hold the close for their whole timeout: close each as it falls idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 200);
      server.closeIdleConnections();
      await closed;
      clearInterval(sweep);
    },
  };
}

/** Starts serving the app's requests on the mirror listener (after the app is ready, as the main port does). */
export async function listenMirror(listener: MirrorListener, app: FastifyInstance, address: { host: string; port: number }): Promise<void> {
  const server = listener.server;
  // The main server's settings, as fastify set them: no whole-request deadline (limitSlowClients keeps those).
  server.keepAliveTimeout = app.server.keepAliveTimeout;
  server.requestTimeout = app.server.requestTimeout;
  server.on("clientError", answerUnparsableRequest);
  server.on("request", (req, res) => {
    markMirrorListenerRequest(req);
    app.routing(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
}
