/** The order n of the P-256 group: the signature (r, n - s) verifies wherever (r, s) does. */
export const P256_ORDER = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/** The s of an ES256 JWS (the second 32 bytes of its signature). */
export function signatureS(token: string): bigint {
  return BigInt(`0x${Buffer.from(token.split(".")[2]!, "base64url").subarray(32).toString("hex")}`);
}

/** The same JWS with s replaced by n - s: the other, equally valid encoding of its ECDSA signature. */
export function flipS(token: string): string {
  const [header, payload, signature] = token.split(".");
  const bytes = Buffer.from(signature!, "base64url");
  const flipped = Buffer.from((P256_ORDER - signatureS(token)).toString(16).padStart(64, "0"), "hex");
  return [header, payload, Buffer.concat([bytes.subarray(0, 32), flipped]).toString("base64url")].join(".");
}
