import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { BlobFileStream } from "../../registry/storage/blob-file-stream";

const CHUNK = 64 * 1024;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("BlobFileStream", () => {
  let dir: string;
  let file: string;
  // Not a multiple of the chunk, so the last read is short.
  const content = randomBytes(CHUNK * 7 + 1234);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-blob-stream-"));
    file = path.join(dir, "blob");
    await writeFile(file, content);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const streamOf = async (start: number, end: number | undefined) => new BlobFileStream(await open(file, "r"), start, end, CHUNK);

  async function closedSoon(stream: BlobFileStream): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!stream.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** A server that pipes a BlobFileStream of bytes start..end into each response, as fastify's reply.send does. */
  async function serve(start: number, end: number): Promise<{ server: Server; url: string; streams: BlobFileStream[] }> {
    const streams: BlobFileStream[] = [];
    const server = createServer(async (_request, response) => {
      const stream = await streamOf(start, end);
      streams.push(stream);
      stream.on("error", () => undefined); // fastify listens too (its end-of-stream); a lost client is one
      response.setHeader("Content-Length", end - start + 1);
      stream.pipe(response);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, streams };
  }

  it("reads whole and in ranges as a plain stream, a new buffer per chunk", async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of await streamOf(0, content.length - 1)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    // Every chunk its own memory: a consumer may keep them all.
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(chunks.length);
    // No end given: to the end of the file, as a whole-blob GET reads it.
    const rest: Buffer[] = [];
    for await (const chunk of await streamOf(100, undefined)) rest.push(chunk as Buffer);
    expect(Buffer.concat(rest).equals(content.subarray(100))).toBe(true);
    const part: Buffer[] = [];
    for await (const chunk of await streamOf(CHUNK - 10, 3 * CHUNK + 5)) part.push(chunk as Buffer);
    expect(Buffer.concat(part).equals(content.subarray(CHUNK - 10, 3 * CHUNK + 6))).toBe(true);
  });

  it("sends whole files and ranges to an HTTP response through its reused buffers, then ends and closes", async () => {
    for (const [start, end] of [
      [0, content.length - 1],
      [5, 5],
      [CHUNK * 2 - 1, CHUNK * 6 + 17],
    ]) {
      const { server, url, streams } = await serve(start, end);
      const body = await (await fetch(url)).arrayBuffer();
      expect(sha256(Buffer.from(body))).toBe(sha256(content.subarray(start, end + 1)));
      await closedSoon(streams[0]);
      expect(streams[0].closed).toBe(true);
      expect(streams[0].readableEnded).toBe(true);
      server.close();
    }
  });

  it("stops reading and closes the file when the client goes away mid-body", async () => {
    const { server, url, streams } = await serve(0, content.length - 1);
    await new Promise<void>((resolve, reject) => {
      const request = get(url, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      request.on("error", () => undefined);
      request.on("close", resolve);
      setTimeout(() => reject(new Error("no data")), 10_000);
    });
    // The response's close ends the sending with an error: the stream is destroyed, which closes the handle.
    const stream = streams[0];
    await closedSoon(stream);
    expect(stream.closed).toBe(true);
    expect(stream.readableEnded).toBe(false);
    server.close();
  });
});
