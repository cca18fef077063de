import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { OciError } from "./errors";

export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^(sha256|sha512):([a-f0-9]+)$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Parses `algo:hex`, or returns null when it is not a digest this registry can verify. */
export function parseDigest(value: string): ParsedDigest | null {
  const match = DIGEST_PATTERN.exec(value);
  if (!match) return null;
  const algorithm = match[1] as DigestAlgorithm;
  if (match[2].length !== HEX_LENGTH[algorithm]) return null;
  return { algorithm, hex: match[2] };
}

/** Like parseDigest, but answers a client with DIGEST_INVALID. */
export function requireDigest(value: string | undefined): ParsedDigest {
  const parsed = value === undefined ? null : parseDigest(value);
  if (!parsed) throw new OciError("DIGEST_INVALID", `invalid digest: ${String(value).slice(0, 200)}`);
  return parsed;
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

/** A pass-through stream that hashes and counts what flows through it; `highWaterMark` is how much it buffers each side. */
export class HashingStream extends Transform {
  bytes = 0;

  constructor(
    readonly hash: Hash,
    highWaterMark?: number,
  ) {
    super(highWaterMark === undefined ? undefined : { highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
