import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** The input exceeded its size cap; nothing of it was kept. */
export class TooLargeError extends Error {
  constructor(readonly maxBytes: number, what: string) {
    super(`${what} is larger than ${maxBytes} bytes`);
  }
}

export interface SpooledFile {
  file: string;
  bytes: number;
  remove(): Promise<void>;
}

/**
 * Writes a stream to a new file under `dir` (a zip must be read with random access), refusing more than `maxBytes`:
 * the stream is never held in memory, and a refused or failed one leaves no file behind.
 */
export async function spool(dir: string, body: Readable | AsyncIterable<Uint8Array>, maxBytes: number, what: string, name = "input"): Promise<SpooledFile> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const holder = await mkdtemp(path.join(dir, "spool-"));
  const file = path.join(holder, name);
  const remove = () => rm(holder, { recursive: true, force: true });
  let bytes = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(bytes > maxBytes ? new TooLargeError(maxBytes, what) : null, chunk);
    },
  });
  try {
    await pipeline(body, cap, createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await remove();
    throw error;
  }
  return { file, bytes, remove };
}
