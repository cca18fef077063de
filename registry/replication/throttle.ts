import { Transform, type Readable, type TransformCallback } from "node:stream";

/**
 * Passes bytes through at most `bytesPerSecond` on average: each chunk is held until the bytes sent so far fit
 * the budget of the time elapsed. A policy's `speed` limit (KB/s per task) is this around each blob stream.
 */
export class Throttle extends Transform {
  private sent = 0;
  private readonly started = Date.now();

  constructor(private readonly bytesPerSecond: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.sent += chunk.length;
    const due = this.started + (this.sent / this.bytesPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait <= 0) return done(null, chunk);
    setTimeout(() => done(null, chunk), wait);
  }
}

/** `source` limited to `kilobytesPerSecond` (0 = unlimited); an error of the source ends the limited stream too. */
export function throttled(source: Readable, kilobytesPerSecond: number): Readable {
  if (kilobytesPerSecond <= 0) return source;
  const limited = new Throttle(kilobytesPerSecond * 1024);
  source.once("error", (error) => limited.destroy(error));
  return source.pipe(limited);
}
