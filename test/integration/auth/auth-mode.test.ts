import { applyAuthMode, AuthModeSwitchRefused, storedAuthMode } from "../../../registry/auth/auth-mode";
import { bootstrap } from "../../../registry/bootstrap";
import { migrate } from "../../../registry/db/migrate";
import type { Sql } from "../../../registry/db/sql";
import { startBerth, type TestBerth } from "../../support/berth";
import { twoNodeSetups, type Nodes } from "../../support/database";

describe.each(twoNodeSetups())("switching BERTH_AUTH_MODE (%s)", (_name, open) => {
  let nodes: Nodes;
  let sql: Sql;

  beforeAll(async () => {
    nodes = await open();
    sql = nodes.a;
    await migrate(sql);
    await bootstrap(sql, "Admin-Password-1");
  });
  afterAll(() => nodes.cleanup());

  it("records nothing while the registry stays in db mode", async () => {
    expect(await applyAuthMode(sql, "db", false)).toEqual({ from: "db", switched: false });
    expect(await sql.query("SELECT 1 FROM settings WHERE key = 'auth_mode'")).toEqual([]);
  });

  it("switches while admin is the only user, and refuses once others exist unless forced", async () => {
    expect(await applyAuthMode(sql, "ldap", false)).toEqual({ from: "db", switched: true });
    expect(await storedAuthMode(sql)).toBe("ldap");
    expect(await applyAuthMode(sql, "ldap", false)).toEqual({ from: "ldap", switched: false });

    await sql.query("INSERT INTO users (username, password_hash) VALUES ('carol', 'x')");
    await expect(applyAuthMode(sql, "oidc", false)).rejects.toThrow(AuthModeSwitchRefused);
    await expect(applyAuthMode(sql, "db", false)).rejects.toThrow(/1 user\(s\) besides admin.*BERTH_AUTH_MODE_FORCE=true/);
    expect(await storedAuthMode(sql)).toBe("ldap");

    expect(await applyAuthMode(sql, "oidc", true)).toEqual({ from: "ldap", switched: true });
    expect(await storedAuthMode(sql)).toBe("oidc");
  });
});

describe("/systeminfo auth_mode", () => {
  let berth: TestBerth;
  beforeAll(async () => {
    // Discovery waits for the first sign-in: an issuer nobody answers for is enough here.
    berth = await startBerth({ env: { BERTH_AUTH_MODE: "oidc", BERTH_OIDC_ISSUER: "https://id.example.com", BERTH_OIDC_CLIENT_ID: "berth" } });
  });
  afterAll(() => berth?.close());

  it("reports the configured mode in Harbor's names", async () => {
    const info = (await (await fetch(`${berth.url}/api/v2.0/systeminfo`)).json()) as Record<string, unknown>;
    expect(info.auth_mode).toBe("oidc_auth");
  });
});
