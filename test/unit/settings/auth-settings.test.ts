import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../../registry/config";
import { authSettingsView } from "../../../registry/settings/auth-settings";

describe("the auth settings /configurations shows", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-auth-settings-"));
    await writeFile(path.join(dir, "search-password"), "search-s3cret\n");
    await writeFile(path.join(dir, "client-secret"), "client-s3cret\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("shows the mode alone in db mode", () => {
    expect(authSettingsView(loadConfig({}, dir))).toEqual({ auth_mode: { value: "db_auth", editable: false } });
  });

  it("shows the ldap settings under Harbor's names, read-only, without the search password", () => {
    const config = loadConfig(
      {
        BERTH_AUTH_MODE: "ldap",
        BERTH_LDAP_URL: "ldaps://ldap.example",
        BERTH_LDAP_BASE_DN: "dc=example,dc=org",
        BERTH_LDAP_SEARCH_DN: "cn=search,dc=example,dc=org",
        BERTH_LDAP_SEARCH_PASSWORD_FILE: "search-password",
        BERTH_LDAP_SCOPE: "one",
        BERTH_LDAP_GROUP_ATTRIBUTE: "memberOf",
        BERTH_LDAP_GROUP_ADMIN_DN: "cn=admins,ou=groups,dc=example,dc=org",
      },
      dir,
    );
    const view = authSettingsView(config);
    expect(view).toMatchObject({
      auth_mode: { value: "ldap_auth", editable: false },
      ldap_url: { value: "ldaps://ldap.example", editable: false },
      ldap_base_dn: { value: "dc=example,dc=org" },
      ldap_search_dn: { value: "cn=search,dc=example,dc=org" },
      ldap_uid: { value: "uid" },
      ldap_scope: { value: 1 },
      ldap_group_membership_attribute: { value: "memberOf" },
      ldap_group_admin_dn: { value: "cn=admins,ou=groups,dc=example,dc=org" },
    });
    expect(Object.values(view).every((entry) => entry.editable === false)).toBe(true);
    expect(JSON.stringify(view)).not.toContain("search-s3cret");
    expect(Object.keys(view).some((key) => key.startsWith("oidc_"))).toBe(false);
  });

  it("shows the oidc settings under Harbor's names, read-only, without the client secret", () => {
    const config = loadConfig(
      {
        BERTH_AUTH_MODE: "oidc",
        BERTH_OIDC_ISSUER: "https://idp.example",
        BERTH_OIDC_CLIENT_ID: "berth",
        BERTH_OIDC_CLIENT_SECRET_FILE: "client-secret",
        BERTH_OIDC_ADMIN_GROUP: "admins",
      },
      dir,
    );
    const view = authSettingsView(config);
    expect(view).toEqual({
      auth_mode: { value: "oidc_auth", editable: false },
      oidc_endpoint: { value: "https://idp.example", editable: false },
      oidc_client_id: { value: "berth", editable: false },
      oidc_scope: { value: "openid,profile,email,offline_access", editable: false },
      oidc_groups_claim: { value: "groups", editable: false },
      oidc_admin_group: { value: "admins", editable: false },
      oidc_user_claim: { value: "preferred_username", editable: false },
      oidc_auto_onboard: { value: true, editable: false },
      oidc_verify_cert: { value: true, editable: false },
    });
    expect(JSON.stringify(view)).not.toContain("client-s3cret");
  });
});
