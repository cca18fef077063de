/**
 * ECDSA signatures are malleable: for every valid (r, s), (r, n - s) is valid too, so one token has two encodings
 * and a replay or revocation list keyed on the token text can be sidestepped. Like Bitcoin and many JOSE stacks,
 * Berth signs only the low-S form and accepts nothing else. Node verifies both forms, so the check is ours.
 */

/** The order n of the P-256 group. */
const P256_ORDER = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const HALF_ORDER = P256_ORDER >> 1n;
/** An ES256 JWS signature is r and s, 32 bytes each, big-endian (RFC 7518 §3.4). */
const COORDINATE_BYTES = 32;

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString("hex")}`);
}

function parts(token: string): { signed: string; signature: Buffer } | null {
  const dot = token.lastIndexOf(".");
  if (dot < 0) return null;
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  return signature.length === 2 * COORDINATE_BYTES ? { signed: token.slice(0, dot), signature } : null;
}

/** True when the token's signature is 64 bytes whose s lies in [1, n/2]. */
export function hasLowS(token: string): boolean {
  const split = parts(token);
  if (!split) return false;
  const s = toBigInt(split.signature.subarray(COORDINATE_BYTES));
  return s >= 1n && s <= HALF_ORDER;
}

/** The same token with its signature in the low-S form (n - s when s > n/2), equally valid. */
export function withLowS(token: string): string {
  const split = parts(token);
  if (!split) throw new Error("not an ES256 JWS");
  const s = toBigInt(split.signature.subarray(COORDINATE_BYTES));
  if (s <= HALF_ORDER) return token;
  const lowS = Buffer.from((P256_ORDER - s).toString(16).padStart(2 * COORDINATE_BYTES, "0"), "hex");
  return `${split.signed}.${Buffer.concat([split.signature.subarray(0, COORDINATE_BYTES), lowS]).toString("base64url")}`;
}
