import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../../../registry/config";

describe("BERTH_LDAP_* settings", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-ldap-config-"));
    await writeFile(path.join(dir, "search-password"), "s3cret\n");
    await writeFile(path.join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const ldap = (env: Record<string, string>) =>
    loadConfig({ BERTH_AUTH_MODE: "ldap", BERTH_LDAP_URL: "ldap://ldap.example:389", BERTH_LDAP_BASE_DN: "dc=example,dc=org", ...env }, dir).ldap;

  test("are not read unless BERTH_AUTH_MODE=ldap", () => {
    expect(loadConfig({}).ldap).toBeUndefined();
    expect(loadConfig({ BERTH_LDAP_URL: "not a url" }).ldap).toBeUndefined();
  });

  test("defaults: StartTLS on ldap://, uid, subtree, memberOf unset", () => {
    expect(ldap({})).toEqual({
      url: "ldap://ldap.example:389",
      startTls: true,
      caFile: undefined,
      baseDn: "dc=example,dc=org",
      searchDn: undefined,
      searchPassword: undefined,
      uidAttribute: "uid",
      filter: undefined,
      scope: "sub",
      groupBaseDn: undefined,
      groupFilter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
      groupAttribute: undefined,
      groupAdminDn: undefined,
      timeoutMs: 5000,
      searchMax: 100,
    });
    expect(ldap({ BERTH_LDAP_URL: "ldaps://ldap.example" })!.startTls).toBe(false);
  });

  test("reads the search password and the CA from files", () => {
    const config = ldap({
      BERTH_LDAP_SEARCH_DN: "cn=search,dc=example,dc=org",
      BERTH_LDAP_SEARCH_PASSWORD_FILE: "search-password",
      BERTH_LDAP_CA_FILE: "ca.pem",
      BERTH_LDAP_GROUP_ATTRIBUTE: "memberOf",
      BERTH_LDAP_GROUP_ADMIN_DN: "cn=admins,dc=example,dc=org",
      BERTH_LDAP_FILTER: "(objectClass=person)",
      BERTH_LDAP_SCOPE: "one",
    })!;
    expect(config).toMatchObject({
      searchPassword: "s3cret",
      caFile: path.join(dir, "ca.pem"),
      groupAttribute: "memberOf",
      groupAdminDn: "cn=admins,dc=example,dc=org",
      filter: "(objectClass=person)",
      scope: "one",
    });
  });

  test.each([
    [{ BERTH_LDAP_URL: "" }, "BERTH_LDAP_URL"],
    [{ BERTH_LDAP_URL: "http://ldap.example" }, "BERTH_LDAP_URL"],
    [{ BERTH_LDAP_URL: "ldap://ldap.example/dc=x" }, "BERTH_LDAP_URL"],
    [{ BERTH_LDAP_BASE_DN: "" }, "BERTH_LDAP_BASE_DN"],
    [{ BERTH_LDAP_SEARCH_DN: "cn=search" }, "BERTH_LDAP_SEARCH_PASSWORD_FILE"],
    [{ BERTH_LDAP_SEARCH_DN: "cn=search", BERTH_LDAP_SEARCH_PASSWORD_FILE: "missing" }, "BERTH_LDAP_SEARCH_PASSWORD_FILE"],
    [{ BERTH_LDAP_CA_FILE: "search-password" }, "BERTH_LDAP_CA_FILE"],
    [{ BERTH_LDAP_SCOPE: "subtree" }, "BERTH_LDAP_SCOPE"],
    [{ BERTH_LDAP_FILTER: "objectClass=person" }, "BERTH_LDAP_FILTER"],
    [{ BERTH_LDAP_UID: "uid)(x" }, "BERTH_LDAP_UID"],
    [{ BERTH_LDAP_STARTTLS: "no" }, "BERTH_LDAP_STARTTLS"],
    [{ BERTH_LDAP_TIMEOUT_SECONDS: "0" }, "BERTH_LDAP_TIMEOUT_SECONDS"],
    [{ BERTH_LDAP_SEARCH_MAX: "-1" }, "BERTH_LDAP_SEARCH_MAX"],
  ])("refuses %j", (env, variable) => {
    expect(() => ldap(env)).toThrow(ConfigError);
    expect(() => ldap(env)).toThrow(variable);
  });
});
