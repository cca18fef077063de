import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";

/** What the proxy does with a request: pass it on, or answer it itself with a status and a body. */
export type Verdict = { status: number; body: string } | null;

export interface FlakyProxy {
  url: string;
  /** Every request seen, as `METHOD path`, in order. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a registry that fails the requests `decide` picks (injected 5xx, 429, 4xx) and streams
 * everything else through unchanged, for tests of retries and error reports.
 */
export async function startFlakyProxy(target: string, decide: (request: IncomingMessage) => Verdict): Promise<FlakyProxy> {
  const upstream = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    const verdict = decide(request);
    if (verdict) {
      request.resume();
      response.writeHead(verdict.status, { "Content-Type": "application/json" }).end(verdict.body);
      return;
    }
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        // Locations the registry hands out must lead back through the proxy.
        const location = answer.headers.location?.replace(upstream.origin, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
        response.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...(location ? { location } : {}) });
        answer.pipe(response);
      },
    );
    forwarded.once("error", () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
