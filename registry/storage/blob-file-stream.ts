import type { FileHandle } from "node:fs/promises";
import { ServerResponse } from "node:http";
import { Readable, type Writable } from "node:stream";

/** Read buffers one stream cycles through when it writes to an HTTP response: reads overlap the socket's writes. */
const POOL_SIZE = 3;

/**
 * Bytes `start`..`end` (inclusive; `end` undefined: to the end of the file) of an open blob file, read `chunkBytes` at a time; the stream owns the handle and
 * closes it when it ends or is destroyed.
 *
 * Read as any stream (a digest check, the scanner), every chunk is a new buffer, as `createReadStream` gives. Piped
 * into an HTTP response (fastify's `reply.send(stream)` pipes), it reads into a few buffers and takes each one back
 * once the socket has written it: a fresh 2 MiB buffer per chunk is memory outside V8's heap, and 256 MiB of them per
 * GET kept crossing V8's external-memory limit, each time starting a full mark of the registry's large heap (the
 * big-GET swing measured in bench/README.md). Only a ServerResponse is fed this way: its write callback fires once
 * the socket took the bytes, while another stream's callback may fire with the chunk still held in its buffer.
 */
export class BlobFileStream extends Readable {
  private position: number;
  private remaining: number;
  private sending = false;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    end: number | undefined,
    private readonly chunkBytes: number,
  ) {
    super({ highWaterMark: chunkBytes });
    this.position = start;
    this.remaining = end === undefined ? Infinity : end - start + 1;
  }

  override _read(): void {
    if (this.remaining <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(Math.min(this.chunkBytes, this.remaining));
    this.readInto(buffer).then(
      (bytes) => this.push(bytes === 0 ? null : buffer.subarray(0, bytes)),
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (!(destination instanceof ServerResponse) || this.sending || this.readableFlowing !== null) return super.pipe(destination, options);
    this.sending = true;
    const response = destination as ServerResponse;
    this.sendTo(response).then(
      () => {
        if (this.destroyed) return;
        // Ends this stream too, so whoever watches it (fastify's end-of-stream) sees it finish.
        this.push(null);
        this.resume();
        if (options?.end !== false) response.end();
      },
      (error: Error) => this.destroy(error),
    );
    return destination;
  }

  /** Reads into POOL_SIZE buffers in turn, each reused once the response's write of it completed. */
  private async sendTo(response: Writable): Promise<void> {
    const pool: Buffer[] = [];
    const written: (Promise<void> | undefined)[] = [];
    const closed = new Promise<never>((_, reject) => {
      const onClose = () => reject(new Error("the client went away"));
      response.once("close", onClose);
      this.once("close", () => response.off("close", onClose));
    });
    closed.catch(() => undefined);
    for (let turn = 0; this.remaining > 0 && !this.destroyed; turn++) {
      const slot = turn % POOL_SIZE;
      if (written[slot]) await Promise.race([written[slot], closed]);
      pool[slot] ??= Buffer.allocUnsafe(Math.min(this.chunkBytes, this.remaining));
      const bytes = await this.readInto(pool[slot].subarray(0, Math.min(pool[slot].length, this.remaining)));
      if (bytes === 0) break;
      written[slot] = new Promise<void>((resolve, reject) => {
        response.write(pool[slot].subarray(0, bytes), (error) => (error ? reject(error) : resolve()));
      });
      written[slot].catch(() => undefined);
    }
    await Promise.race([Promise.all(written), closed]);
  }

  /**
   * Fills `buffer` from the current position (a read may be short). At the end of the file: 0 when no end was given,
   * else a failure (the file is shorter than the range).
   */
  private async readInto(buffer: Buffer): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.position);
    if (bytesRead === 0 && this.remaining === Infinity) {
      this.remaining = 0;
      return 0;
    }
    if (bytesRead === 0) throw new Error(`the blob file ended ${this.remaining} bytes early`);
    this.position += bytesRead;
    this.remaining -= bytesRead;
    return bytesRead;
  }
}
