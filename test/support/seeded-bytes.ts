import { createCipheriv, createHash } from "node:crypto";

/**
 * Reproducible pseudo-random blob content. The same seed always gives the same bytes, so a test can stream a
 * large blob twice (or know its digest up front) without ever holding it in memory: the bytes are an AES-CTR
 * keystream, generated chunk by chunk.
 */
export function* seededChunks(seed: string, size: number, chunkSize = 1024 * 1024): Generator<Buffer> {
  const key = createHash("sha256").update(seed).digest();
  const keystream = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  for (let offset = 0; offset < size; offset += chunkSize) {
    yield keystream.update(Buffer.alloc(Math.min(chunkSize, size - offset)));
  }
}

/** All of a (small) seeded blob in one buffer. */
export function seededBytes(seed: string, size: number): Buffer {
  return Buffer.concat([...seededChunks(seed, size)]);
}

/** `sha256:<hex>` of bytes given whole or as a sequence of chunks. */
export function sha256Of(content: Buffer | string | Iterable<Buffer>): string {
  const hash = createHash("sha256");
  if (typeof content === "string" || Buffer.isBuffer(content)) hash.update(content);
  else for (const chunk of content) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}
