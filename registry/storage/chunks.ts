import { finished, type Readable } from "node:stream";

/** A stream chunk as bytes (object-mode and string chunks are refused or encoded, never passed on as they are). */
function toBytes(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new TypeError(`upload source produced a ${typeof chunk}, expected bytes`);
}

/** How many chunks may wait for the consumer before the source is paused (64 KiB socket chunks: 1 MiB). */
const QUEUED_CHUNKS = 16;

/**
 * The chunks of `source` one by one, as the source produced them. `for await (const chunk of source)` reads a paused
 * stream, and each such read joins everything buffered into one new Buffer: while the consumer waits on a disk or
 * network write, that is a copy of nearly every byte of an upload. Here the stream flows, each chunk is queued as it
 * is, and the source is paused while QUEUED_CHUNKS wait. Leaving the loop early destroys the source, as for-await does.
 */
export async function* chunksOf(source: Readable): AsyncGenerator<Buffer, void, undefined> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const waiting = wake;
    wake = null;
    waiting?.();
  };
  const onData = (chunk: unknown) => {
    try {
      queue.push(toBytes(chunk));
    } catch (error) {
      source.destroy(error as Error);
      return;
    }
    if (queue.length >= QUEUED_CHUNKS) source.pause();
    notify();
  };
  const stopWatching = finished(source, (error) => {
    if (error) failure = error;
    ended = true;
    notify();
  });
  source.on("data", onData);
  try {
    for (;;) {
      if (failure) throw failure;
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (queue.length < QUEUED_CHUNKS / 2 && source.isPaused() && !ended) source.resume();
        yield chunk;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    source.off("data", onData);
    stopWatching();
    if (!ended) source.destroy();
  }
}
