import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";

/**
 * HTTP over node:http, for what `fetch` cannot do: send a path exactly as written (fetch normalises `..`, `%2e`
 * and friends away), choose between Content-Length and chunked framing, and stop a body halfway.
 */

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): unknown;
}

export interface RawRequest {
  method: string;
  /** Sent verbatim, query string included. */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

const CHUNK = 64 * 1024;

function readResponse(response: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("error", reject);
    response.on("end", () => {
      const body = Buffer.concat(chunks);
      resolve({ status: response.statusCode!, headers: response.headers, body, json: () => JSON.parse(body.toString("utf8")) });
    });
  });
}

/**
 * Sends one request on its own connection. A server may answer before it has read the whole body (413, 401):
 * the response still counts, and the failed writes after it are expected.
 */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const target = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.path, headers: request.headers, agent: false },
      (response) => {
        answered = true;
        readResponse(response).then(resolve, reject);
      },
    );
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (body === undefined) return req.end();
    if (!request.chunked) return req.end(body);
    // write() before end() keeps node from computing a Content-Length, so the body goes out chunked.
    for (let offset = 0; offset < body.length; offset += CHUNK) req.write(body.subarray(offset, offset + CHUNK));
    req.end();
  });
}

/** A request whose body the test writes piece by piece, and may abandon by dropping the connection. */
export class OpenRequest {
  /** Rejects when the connection ends without a response; already marked handled, so abandoning is quiet. */
  readonly response: Promise<RawResponse>;
  private readonly req: http.ClientRequest;

  /** `agent`: a keep-alive agent to behave like registry clients do; by default the connection is the request's own. */
  constructor(baseUrl: string, request: Omit<RawRequest, "body" | "chunked">, agent: http.Agent | false = false) {
    const target = new URL(baseUrl);
    this.req = http.request({
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.path,
      headers: request.headers,
      agent,
    });
    this.response = new Promise((resolve, reject) => {
      this.req.on("response", (response) => readResponse(response).then(resolve, reject));
      this.req.on("error", reject);
    });
    this.response.catch(() => undefined);
    this.req.flushHeaders();
  }

  /** Resolves once the chunk has been handed to the socket, so a fast writer waits for a slow server. */
  write(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.req.write(chunk, (error) => (error ? reject(error) : resolve())));
  }

  end(): Promise<RawResponse> {
    this.req.end();
    return this.response;
  }

  /** Drops the connection as a crashed or killed client would, mid-body. */
  disconnect(): void {
    this.req.destroy();
  }
}
