import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics";

/** The metrics port could not be opened; carries the listen error's code so the startup line can say why. */
export class MetricsListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    cause: Error,
  ) {
    super(`cannot listen on ${host}:${port} for metrics: ${cause.message}`, { cause });
  }
}

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9090 (the port actually bound, when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on its own address (BERTH_METRICS_ADDR), as Harbor serves metrics on a port of their own: request
 * counts by route and user-independent process figures are for the operator's Prometheus, not for whoever reaches
 * the registry port. Plain node:http: no auth, no hooks, nothing else is served here.
 */
export async function startMetricsListener(metrics: Metrics, host: string, port: number): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found: metrics are at GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(request.method === "HEAD" ? undefined : text),
      () => response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("collecting metrics failed\n"),
    );
  });
  // A scraper keeps one connection open between scrapes; that must not hold a stopping process.
  server.keepAliveTimeout = 5000;
  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  const shown = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  return {
    url: `http://${shown.includes(":") ? `[${shown}]` : shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new MetricsListenError(host, port, error.code, error)));
    server.listen(port, host, () => resolve());
  });
}
