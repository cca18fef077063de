import { close, createReadStream, read } from "node:fs";
import { Readable } from "node:stream";
import yauzl from "yauzl";

const WINDOW_BYTES = 1024 * 1024;
const WINDOWS_KEPT = 4;

/**
 * A file as yauzl reads it, through a few cached 1 MiB windows. yauzl reads a zip in small pieces (each central
 * directory record, each local header, each entry's data: several reads per entry); an all.zip has tens of
 * thousands of small entries, stored in order, so nearly every read falls in a window already read. Memory stays at
 * WINDOWS_KEPT windows whatever the zip's size; a range larger than a window is streamed from the file.
 */
export class WindowedFileReader extends yauzl.RandomAccessReader {
  private readonly windows = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  private window(index: number): Promise<Buffer> {
    let cached = this.windows.get(index);
    if (cached) {
      // Most recently used last: the Map's order is the eviction order.
      this.windows.delete(index);
      this.windows.set(index, cached);
      return cached;
    }
    const start = index * WINDOW_BYTES;
    const length = Math.min(WINDOW_BYTES, this.size - start);
    cached = new Promise<Buffer>((resolve, reject) => {
      const buffer = Buffer.allocUnsafe(Math.max(0, length));
      read(this.fd, buffer, 0, buffer.length, start, (error, bytesRead) => (error ? reject(error) : resolve(buffer.subarray(0, bytesRead))));
    });
    this.windows.set(index, cached);
    cached.catch(() => this.windows.delete(index));
    if (this.windows.size > WINDOWS_KEPT) this.windows.delete(this.windows.keys().next().value!);
    return cached;
  }

  private async bytes(start: number, end: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let position = start; position < end; ) {
      const index = Math.floor(position / WINDOW_BYTES);
      const window = await this.window(index);
      const from = position - index * WINDOW_BYTES;
      const to = Math.min(window.length, end - index * WINDOW_BYTES);
      if (to <= from) throw new Error(`unexpected end of file at ${position}`);
      parts.push(window.subarray(from, to));
      position += to - from;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
    this.bytes(position, position + length).then(
      (bytes) => {
        bytes.copy(buffer, offset);
        callback(null);
      },
      (error: Error) => callback(error),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end - start > WINDOW_BYTES) return createReadStream("", { fd: this.fd, start, end: end - 1, autoClose: false });
    const bytes = () => this.bytes(start, end);
    return Readable.from((async function* () {
      yield await bytes();
    })());
  }

  override close(callback: (error: Error | null) => void): void {
    this.windows.clear();
    close(this.fd, (error) => callback(error ?? null));
  }
}
