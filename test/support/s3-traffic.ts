import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { S3Settings } from "../../registry/storage/s3";

/** What went to the object store through the proxy since the last reset. */
export interface S3Traffic {
  /** Bytes in the bodies of PUT requests that carry data (PutObject, UploadPart): bytes written over the network. */
  writtenBytes: number;
  /** Bytes in the bodies of GetObject answers (listings aside): bytes read back. */
  readBytes: number;
  /** Server-side copies (PUT with x-amz-copy-source: CopyObject, UploadPartCopy): no byte crosses the network. */
  copies: number;
  /** Upload ids of AbortMultipartUpload requests the store accepted (2xx). */
  aborted: string[];
  /** Every CompleteMultipartUpload the store accepted: the object key and its parts' sizes, in part order. */
  completed: { key: string; uploadId: string; partSizes: number[] }[];
}

export interface CountingS3Proxy {
  /** The settings to give Berth: the proxy's endpoint, the bucket and keys of the server behind it. */
  settings: S3Settings;
  traffic: S3Traffic;
  reset(): void;
  close(): Promise<void>;
}

const emptyTraffic = (): S3Traffic => ({ writtenBytes: 0, readBytes: 0, copies: 0, aborted: [], completed: [] });

/**
 * An HTTP proxy in front of an S3 server that counts what passes. SigV4 signs the Host header, which is forwarded
 * as the client sent it, so the server behind checks the same signature the client made.
 */
export async function startCountingS3Proxy(upstream: S3Settings): Promise<CountingS3Proxy> {
  const target = new URL(upstream.endpoint);
  const traffic = emptyTraffic();
  // Size of every UploadPart by upload id and part number (the last one sent for a number counts, as in S3).
  const partSizes = new Map<string, Map<number, number>>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? "/", "http://proxy");
    const uploadId = url.searchParams.get("uploadId");
    const isComplete = incoming.method === "POST" && uploadId !== null;
    const body: Buffer[] = [];
    let bytes = 0;
    incoming.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (isComplete) body.push(chunk);
    });
    const forwarded = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer: IncomingMessage) => {
        const ok = (answer.statusCode ?? 500) < 300;
        if (ok) record(incoming, url, uploadId, bytes, Buffer.concat(body).toString());
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        const isGetObject = incoming.method === "GET" && url.pathname.split("/").slice(2).join("/") !== ""; // not a listing
        if (isGetObject && ok) answer.on("data", (chunk: Buffer) => (traffic.readBytes += chunk.length));
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });

  function record(incoming: IncomingMessage, url: URL, uploadId: string | null, bytes: number, body: string): void {
    const key = decodeURIComponent(url.pathname).split("/").slice(2).join("/");
    if (incoming.method === "PUT") {
      if (incoming.headers["x-amz-copy-source"] !== undefined) traffic.copies += 1;
      else traffic.writtenBytes += bytes;
      const part = url.searchParams.get("partNumber");
      if (uploadId !== null && part !== null) {
        if (!partSizes.has(uploadId)) partSizes.set(uploadId, new Map());
        partSizes.get(uploadId)!.set(Number(part), bytes);
      }
    } else if (incoming.method === "DELETE" && uploadId !== null) {
      traffic.aborted.push(uploadId);
    } else if (incoming.method === "POST" && uploadId !== null) {
      const numbers = [...body.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]));
      traffic.completed.push({ key, uploadId, partSizes: numbers.map((number) => partSizes.get(uploadId)?.get(number) ?? -1) });
    }
  }

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    settings: { ...upstream, endpoint: `http://127.0.0.1:${port}` },
    traffic,
    reset: () => Object.assign(traffic, emptyTraffic()),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
