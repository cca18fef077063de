import { randomBytes } from "node:crypto";
import { SecretBox } from "../../../../registry/secrets/secret-box";
import { LOGIN_STATE_SECONDS, openLoginState, sealLoginState } from "../../../../registry/identity/oidc/login-state";

describe("the pending OIDC sign-in cookie", () => {
  const box = new SecretBox(randomBytes(32), "test key");
  const pending = { state: "s", nonce: "n", codeVerifier: "v", redirectUri: "https://berth.example/c/oidc/callback" };

  it("opens what it sealed until it expires", () => {
    const value = sealLoginState(box, pending, 1000);
    expect(value).not.toContain("codeVerifier");
    expect(openLoginState(box, value, 1000 + LOGIN_STATE_SECONDS * 1000 - 1)).toEqual(pending);
    expect(openLoginState(box, value, 1000 + LOGIN_STATE_SECONDS * 1000)).toBeNull();
  });

  it("refuses a value sealed with another key, altered, or not sealed at all", () => {
    const value = sealLoginState(box, pending, 1000);
    expect(openLoginState(new SecretBox(randomBytes(32), "other key"), value, 1000)).toBeNull();
    const decoded = decodeURIComponent(value);
    const altered = decoded.slice(0, -4) + (decoded.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(openLoginState(box, encodeURIComponent(altered), 1000)).toBeNull();
    expect(openLoginState(box, encodeURIComponent(JSON.stringify({ ...pending, expires: 5000 })), 1000)).toBeNull();
    expect(openLoginState(box, undefined, 1000)).toBeNull();
  });
});
