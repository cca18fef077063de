/**
 * A layer blob as a stream of tar bytes (issue 16). The compression is read from the blob's first bytes, not from
 * the manifest's media type: Docker's media types say gzip for every layer, and some tools label zstd layers wrongly.
 * gzip (1f 8b) goes through zlib, zstd (28 b5 2f fd) through zlib where Node has it and fzstd where not (Node 20),
 * anything else is taken as plain tar. The decompressed size is capped: a small blob can inflate to any size.
 */
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream";
import * as zlib from "node:zlib";
import { Decompress } from "fzstd";

/** Proposed: BERTH_SCAN_LAYER_MAX_BYTES. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 8 * 1024 ** 3;

export type LayerCompression = "gzip" | "zstd" | "none";

export class LayerTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the layer decompresses to more than ${maxBytes} bytes, the scanner's limit`);
    this.name = "LayerTooLargeError";
  }
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function compressionOf(head: Buffer): LayerCompression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return "gzip";
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return "zstd";
  return "none";
}

/**
 * The first `bytes` bytes of a stream, and a stream that still yields everything from the start (the head is
 * unshifted back; a stream that already ended is replaced by one holding the head).
 */
async function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (ended: boolean): void => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      const head = Buffer.concat(chunks);
      if (ended) {
        resolve({ head, stream: Readable.from(head.length > 0 ? [head] : []) });
      } else {
        stream.unshift(head);
        resolve({ head, stream });
      }
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= bytes) return finish(false);
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (error: Error): void => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      reject(error);
    };
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}

/** fzstd's streaming decompressor as a Transform. */
export function createZstdDecompress(): Transform {
  let decompressor: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        decompressor.push(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        decompressor.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  decompressor = new Decompress((data) => {
    // fzstd hands out views into buffers it may reuse for the next frame's window: copy.
    if (data.length > 0) transform.push(Buffer.from(data));
  });
  return transform;
}

/**
 * zstd from zlib where Node has it (22.15+, which `engines` allows), else fzstd: pure JavaScript, and about five
 * times slower than the zstd command on a 250 MB layer here (bench/README.md).
 */
function zstdDecompressor(): Transform {
  const native = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  return native ? native() : createZstdDecompress();
}

/** Fails the stream once more than `maxBytes` have passed. */
export function byteLimit(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > maxBytes) callback(new LayerTooLargeError(maxBytes));
      else callback(null, chunk);
    },
  });
}

/** The tar bytes of a layer blob, whatever its compression, failing beyond `maxBytes` of tar. */
export async function decompressLayer(blob: Readable, maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<{ compression: LayerCompression; tar: Readable }> {
  const { head, stream } = await peek(blob, ZSTD_MAGIC.length);
  const compression = compressionOf(head);
  const limit = byteLimit(maxBytes);
  const noop = (): void => {}; // Errors reach the consumer through `limit`, the last stream of the pipeline.
  if (compression === "gzip") pipeline(stream, zlib.createGunzip({ chunkSize: 256 * 1024 }), limit, noop);
  else if (compression === "zstd") pipeline(stream, zstdDecompressor(), limit, noop);
  else pipeline(stream, limit, noop);
  return { compression, tar: limit };
}
