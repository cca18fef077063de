import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

/** The prefix of every sealed value: a value without it is plain text written by a version before encryption. */
export const SEALED_PREFIX = "enc:v1:";

export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check value is the HMAC of: it proves which key sealed a database's secrets without revealing it. */
const CHECK_CONSTANT = "berth secret key check v1";

/** A sealed value that this key cannot open: the key differs from the one that sealed it, or the value was altered. */
export class SecretKeyMismatchError extends Error {
  constructor(readonly keySource: string, detail: string) {
    super(
      `BERTH_SECRET_KEY_FILE: ${detail}; the key in ${keySource} is not the one the stored secrets were encrypted with. ` +
        `Give every node the same key file (restore the original one), or set BERTH_SECRET_KEY_FILE to it`,
    );
  }
}

/**
 * Encrypts secrets that must be stored usable (an upstream registry's password, a webhook's Authorization header,
 * the token signing key) with AES-256-GCM. A sealed value reads `enc:v1:` + base64(iv | tag | ciphertext): the
 * version prefix tells a sealed value from an old plain one and leaves room for another scheme. GCM authenticates,
 * so a wrong key or an altered value is an error, never garbage.
 */
export class SecretBox {
  /** @param keySource where the key came from, for error messages (a path); never the key itself. */
  constructor(
    private readonly key: Buffer,
    readonly keySource: string,
  ) {
    if (key.length !== SECRET_KEY_BYTES) throw new Error(`a secret key is ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(SEALED_PREFIX);
  }

  /** Seals `plain`; the empty string (no secret) stays empty, so "is a secret set?" needs no key. */
  seal(plain: string): string {
    if (plain === "") return "";
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
  }

  /** The plain text of a stored value; a value without the prefix is returned as it is (written before sealing). */
  open(stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const bytes = Buffer.from(stored.slice(SEALED_PREFIX.length), "base64");
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretKeyMismatchError(this.keySource, "a stored secret is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretKeyMismatchError(this.keySource, "a stored secret cannot be decrypted");
    }
  }

  /** Seals `stored` unless it already is (the upgrade pass). */
  reseal(stored: string): string {
    return SecretBox.isSealed(stored) ? stored : this.seal(stored);
  }

  /** HMAC-SHA256 of a constant: equal for equal keys, and says nothing about the key. */
  checkValue(): string {
    return createHmac("sha256", this.key).update(CHECK_CONSTANT).digest("base64");
  }
}
