import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "../../../../registry/config";
import { loadOidcConfig } from "../../../../registry/identity/oidc/config";

describe("loadOidcConfig", () => {
  const base = { BERTH_OIDC_ISSUER: "https://idp.example/realms/x", BERTH_OIDC_CLIENT_ID: "berth" };

  it("reads nothing unless the auth mode is oidc", () => {
    expect(loadOidcConfig("db", { BERTH_OIDC_ISSUER: "not a url" })).toBeUndefined();
    // The mode comes from the validated configuration alone: the variable itself is not read again.
    expect(loadOidcConfig("ldap", { BERTH_AUTH_MODE: "oidc", BERTH_OIDC_ISSUER: "not a url" })).toBeUndefined();
  });

  it("applies the defaults and always asks for openid", () => {
    expect(loadOidcConfig("oidc", base)).toEqual({
      issuer: "https://idp.example/realms/x",
      clientId: "berth",
      clientSecret: undefined,
      scopes: ["openid", "profile", "email", "offline_access"],
      usernameClaim: "preferred_username",
      groupsClaim: "groups",
      adminGroup: undefined,
      refreshCheckSeconds: 60,
    });
    expect(loadOidcConfig("oidc", { ...base, BERTH_OIDC_SCOPES: "profile,offline_access" })?.scopes).toEqual(["openid", "profile", "offline_access"]);
  });

  it("reads the client secret from its file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "berth-oidc-"));
    writeFileSync(path.join(dir, "secret"), "s3cret\n");
    expect(loadOidcConfig("oidc", { ...base, BERTH_OIDC_CLIENT_SECRET_FILE: "secret", BERTH_OIDC_ADMIN_GROUP: "admins" }, dir)).toMatchObject({
      clientSecret: "s3cret",
      adminGroup: "admins",
    });
    expect(() => loadOidcConfig("oidc", { ...base, BERTH_OIDC_CLIENT_SECRET_FILE: "missing" }, dir)).toThrow(ConfigError);
  });

  it("refuses a missing or malformed issuer and a missing client id", () => {
    expect(() => loadOidcConfig("oidc", { ...base, BERTH_OIDC_ISSUER: undefined })).toThrow(/BERTH_OIDC_ISSUER/);
    expect(() => loadOidcConfig("oidc", { ...base, BERTH_OIDC_ISSUER: "ftp://x" })).toThrow(/BERTH_OIDC_ISSUER/);
    expect(() => loadOidcConfig("oidc", { ...base, BERTH_OIDC_CLIENT_ID: "" })).toThrow(/BERTH_OIDC_CLIENT_ID/);
  });

  it("reads how long a refresh at the provider vouches for CLI secrets, and refuses what is not whole seconds", () => {
    expect(loadOidcConfig("oidc", { ...base, BERTH_OIDC_REFRESH_CHECK_SECONDS: "5" })?.refreshCheckSeconds).toBe(5);
    for (const value of ["0", "-1", "1.5", "soon"]) {
      expect(() => loadOidcConfig("oidc", { ...base, BERTH_OIDC_REFRESH_CHECK_SECONDS: value })).toThrow(/BERTH_OIDC_REFRESH_CHECK_SECONDS/);
    }
  });
});
