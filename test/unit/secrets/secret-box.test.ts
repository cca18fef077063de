import { randomBytes } from "node:crypto";
import { SEALED_PREFIX, SecretBox, SecretKeyMismatchError } from "../../../registry/secrets/secret-box";

const box = () => new SecretBox(randomBytes(32), "/etc/berth/secretkey");

describe("SecretBox", () => {
  it("seals to a versioned value that holds no trace of the plain text, and opens it again", () => {
    const secrets = box();
    const sealed = secrets.seal("Registry-Password-1");
    expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
    expect(sealed).not.toContain("Registry-Password-1");
    expect(Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64").includes("Registry-Password-1")).toBe(false);
    expect(secrets.open(sealed)).toBe("Registry-Password-1");
  });

  it("uses a fresh IV each time: the same secret never seals to the same value", () => {
    const secrets = box();
    expect(secrets.seal("same")).not.toBe(secrets.seal("same"));
  });

  it("passes plain values from older versions through open, and reseal seals only those", () => {
    const secrets = box();
    expect(secrets.open("written-before-encryption")).toBe("written-before-encryption");
    const sealed = secrets.reseal("written-before-encryption");
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(secrets.reseal(sealed)).toBe(sealed);
    expect(secrets.open(sealed)).toBe("written-before-encryption");
  });

  it("leaves the empty string (no secret) empty", () => {
    expect(box().seal("")).toBe("");
  });

  it("refuses a value sealed with another key, naming BERTH_SECRET_KEY_FILE and the file, never the secret", () => {
    const sealed = box().seal("Top-Secret-Value");
    let error: unknown;
    try {
      box().open(sealed);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretKeyMismatchError);
    expect((error as Error).message).toMatch(/^BERTH_SECRET_KEY_FILE: .*\/etc\/berth\/secretkey/);
    expect((error as Error).message).not.toContain("Top-Secret-Value");
  });

  it("refuses an altered or truncated value (GCM authenticates)", () => {
    const secrets = box();
    const bytes = Buffer.from(secrets.seal("value").slice(SEALED_PREFIX.length), "base64");
    bytes[bytes.length - 1] ^= 1;
    expect(() => secrets.open(SEALED_PREFIX + bytes.toString("base64"))).toThrow(SecretKeyMismatchError);
    expect(() => secrets.open(`${SEALED_PREFIX}AAAA`)).toThrow(SecretKeyMismatchError);
  });

  it("gives equal check values for equal keys only", () => {
    const key = randomBytes(32);
    expect(new SecretBox(key, "a").checkValue()).toBe(new SecretBox(Buffer.from(key), "b").checkValue());
    expect(new SecretBox(key, "a").checkValue()).not.toBe(box().checkValue());
  });

  it("takes 32-byte keys only", () => {
    expect(() => new SecretBox(randomBytes(16), "short")).toThrow(/32 bytes/);
  });
});
