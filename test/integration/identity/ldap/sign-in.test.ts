import { Authenticator, BadCredentialsError, DirectoryUnavailableError, TooManyAttemptsError } from "../../../../registry/auth/authenticate";
import { LoginThrottle, DEFAULT_LOGIN_THROTTLE_LIMITS } from "../../../../registry/auth/login-throttle";
import { hashPassword } from "../../../../registry/auth/password";
import { migrate } from "../../../../registry/db/migrate";
import type { PgliteSql } from "../../../../registry/db/pglite";
import { openTestPglite } from "../../../support/database";
import { parseLdapConfig } from "../../../../registry/identity/ldap/config";
import { LdapDirectory } from "../../../../registry/identity/ldap/directory";
import { RobotStore } from "../../../../registry/robots/store";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../../support/berth";
import { groupDn, ldapModeEnv, PEOPLE, slapdAvailable, startSlapd, type Slapd } from "../../../support/slapd";
import { describeIf } from "../../../support/tools";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString("base64")}`;

describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "signing in with BERTH_AUTH_MODE=ldap", () => {
  let slapd: Slapd;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    slapd = await startSlapd();
    dir = await mkdtemp(path.join(tmpdir(), "berth-ldap-sign-in-"));
    env = await ldapModeEnv(slapd, dir);
  }, 60_000);
  afterAll(async () => {
    await slapd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe("the Authenticator", () => {
    let sql: PgliteSql;
    let authenticator: Authenticator;
    beforeAll(async () => {
      sql = await openTestPglite();
      await migrate(sql);
      await sql.query("INSERT INTO users (username, password_hash, sysadmin) VALUES ('admin', $1, true)", [await hashPassword("Admin-Password-1")]);
      const directory = new LdapDirectory(parseLdapConfig("ldap", env, dir)!);
      const throttle = new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE_LIMITS, failuresPerUser: 2 });
      authenticator = new Authenticator(sql, new RobotStore(sql), throttle, directory);
    });
    afterAll(() => sql?.close());

    test("creates the user row at the first sign-in and reads the groups at each", async () => {
      expect(await sql.query("SELECT 1 FROM users WHERE username = 'bob'")).toHaveLength(0);
      const bob = await authenticator.authenticate(basic("bob", PEOPLE.bob.password));
      const [row] = await sql.query<{ id: number; email: string; realname: string; sysadmin: boolean }>(
        "SELECT id, email, realname, sysadmin FROM users WHERE username = 'bob'",
      );
      expect(row).toEqual({ id: expect.any(Number), email: "bob@berth.test", realname: "Bob", sysadmin: false });
      expect(bob).toEqual({ kind: "user", id: row.id, username: "bob", sysadmin: false, groups: [{ type: 1, name: groupDn("devs") }] });
      const alice = await authenticator.authenticate(basic("alice", PEOPLE.alice.password));
      expect(alice).toMatchObject({ username: "alice", sysadmin: true, groups: [{ type: 1, name: groupDn("devs") }, { type: 1, name: groupDn("registry-admins") }] });
      // The admin group makes a system admin for the session; the row is not promoted.
      expect(await sql.query("SELECT sysadmin FROM users WHERE username = 'alice'")).toEqual([{ sysadmin: false }]);
      await authenticator.authenticate(basic("bob", PEOPLE.bob.password));
      expect(await sql.query("SELECT 1 FROM users WHERE username = 'bob'")).toHaveLength(1);
    });

    test("a wrong password and an unknown user are refused and counted by the throttle", async () => {
      await expect(authenticator.authenticate(basic("carol", "wrong"))).rejects.toThrow(BadCredentialsError);
      await expect(authenticator.authenticate(basic("carol", "wrong"))).rejects.toThrow(BadCredentialsError);
      await expect(authenticator.authenticate(basic("carol", PEOPLE.carol.password))).rejects.toThrow(TooManyAttemptsError);
      await expect(authenticator.authenticate(basic("nobody", "x"))).rejects.toThrow(BadCredentialsError);
      expect(await sql.query("SELECT 1 FROM users WHERE username IN ('carol', 'nobody')")).toHaveLength(0);
    });

    test("the built-in admin signs in with its local password only", async () => {
      expect(await authenticator.authenticate(basic("admin", "Admin-Password-1"))).toMatchObject({ username: "admin", sysadmin: true });
      await expect(authenticator.authenticate(basic("admin", "wrong"))).rejects.toThrow(BadCredentialsError);
    });
  });

  describe("a Berth server", () => {
    let berth: TestBerth;
    beforeAll(async () => {
      berth = await startBerth({ env });
    }, 60_000);
    afterAll(() => berth?.close());

    const current = (authorization: string) => fetch(`${berth.url}/api/v2.0/users/current`, { headers: { authorization } });

    const api = (method: string, pathAndQuery: string, authorization = ADMIN_AUTH, body?: unknown) =>
      fetch(`${berth.url}/api/v2.0${pathAndQuery}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    test("Harbor's /ldap routes ping, search and import for system admins", async () => {
      expect(await (await api("POST", "/ldap/ping")).json()).toEqual({ success: true, message: "" });
      const users = await api("GET", "/ldap/users/search?username=o");
      expect(await users.json()).toEqual([
        { username: "bob", realname: "Bob", email: "bob@berth.test" },
        { username: "carol", realname: "Carol", email: "carol@berth.test" },
      ]);
      const groups = await api("GET", "/ldap/groups/search?groupname=dev");
      expect(await groups.json()).toEqual([{ group_name: "devs", ldap_group_dn: groupDn("devs"), group_type: 1 }]);
      expect((await api("GET", "/ldap/groups/search")).status).toBe(400);

      const partial = await api("POST", "/ldap/users/import", ADMIN_AUTH, { ldap_uid_list: ["carol", "nobody"] });
      expect(partial.status).toBe(404);
      expect(await partial.json()).toEqual([{ uid: "nobody", error: "not found in the directory" }]);
      const listed = await api("GET", "/users?page_size=100");
      expect(((await listed.json()) as { username: string }[]).map((u) => u.username)).toContain("carol");
      expect((await api("POST", "/ldap/users/import", ADMIN_AUTH, { ldap_uid_list: "carol" })).status).toBe(400);

      // bob is in no admin group: a plain user.
      expect((await api("GET", "/ldap/users/search", basic("bob", PEOPLE.bob.password))).status).toBe(403);
      // alice is a member of BERTH_LDAP_GROUP_ADMIN_DN.
      expect((await api("GET", "/ldap/users/search", basic("alice", PEOPLE.alice.password))).status).toBe(200);
    });

    test("refuses Harbor's database-user calls as Harbor does: no local users, no password but the admin's", async () => {
      const created = await api("POST", "/users", ADMIN_AUTH, { username: "local", password: "Local-Passw0rd", email: "local@berth.test", realname: "Local" });
      expect(created.status).toBe(403);
      expect(await created.json()).toEqual({ errors: [{ code: "FORBIDDEN", message: expect.stringContaining("under auth mode ldap_auth") }] });
      expect((await current(basic("bob", PEOPLE.bob.password))).status).toBe(200);
      const bob = ((await (await api("GET", "/users?q=username%3Dbob")).json()) as { user_id: number }[])[0];
      const own = await api("PUT", `/users/${bob.user_id}/password`, basic("bob", PEOPLE.bob.password), { old_password: PEOPLE.bob.password, new_password: "New-Passw0rd-1" });
      expect(own.status).toBe(403);
      expect((await api("PUT", `/users/${bob.user_id}/password`, ADMIN_AUTH, { new_password: "New-Passw0rd-1" })).status).toBe(403);
      // The built-in admin's own password stays local: the call goes on to check the old password.
      const wrongOld = await api("PUT", "/users/1/password", ADMIN_AUTH, { old_password: "wrong", new_password: "New-Passw0rd-1" });
      expect(await wrongOld.json()).toEqual({ errors: [{ code: "FORBIDDEN", message: "the old password is wrong" }] });
      // CLI secrets are the OIDC mode's.
      expect((await api("POST", `/users/${bob.user_id}/cli_secret`, basic("bob", PEOPLE.bob.password))).status).toBe(412);
    });

    test("a project admin adds a directory user who never signed in by username: looked up and onboarded", async () => {
      expect((await api("POST", "/projects", ADMIN_AUTH, { project_name: "ldap-members", metadata: { public: "false" } })).status).toBe(201);
      // carol was imported by the first test: remove her row, so she is a directory user Berth has never seen.
      const carol = ((await (await api("GET", "/users?q=username%3Dcarol")).json()) as { user_id: number }[])[0];
      expect((await api("DELETE", `/users/${carol.user_id}`)).status).toBe(200);
      expect((await (await api("GET", "/users?q=username%3Dcarol")).json()) as unknown[]).toEqual([]);
      expect((await api("POST", "/projects/ldap-members/members", ADMIN_AUTH, { role_id: 2, member_user: { username: "carol" } })).status).toBe(201);
      const members = (await (await api("GET", "/projects/ldap-members/members")).json()) as { entity_name: string; role_id: number }[];
      expect(members).toContainEqual(expect.objectContaining({ entity_name: "carol", role_id: 2 }));
      const unknown = await api("POST", "/projects/ldap-members/members", ADMIN_AUTH, { role_id: 2, member_user: { username: "nobody" } });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ errors: [{ code: "NOT_FOUND", message: "user nobody not found here or in the LDAP directory" }] });
    });

    test("signs directory users in; the admin still signs in when the directory is down", async () => {
      const alice = await current(basic("alice", PEOPLE.alice.password));
      expect(alice.status).toBe(200);
      expect(await alice.json()).toMatchObject({ username: "alice", email: "alice@berth.test" });
      expect((await current(basic("alice", "wrong"))).status).toBe(401);
      expect((await current(basic("nobody", "x"))).status).toBe(401);

      await slapd.stop();
      // carol has not signed in to this server yet (bob's login would be answered from the short login cache).
      const down = await current(basic("carol", PEOPLE.carol.password));
      expect(down.status).toBe(401);
      expect(JSON.stringify(await down.json())).toContain("directory is unavailable");
      expect((await current(ADMIN_AUTH)).status).toBe(200);
      expect(await (await api("POST", "/ldap/ping")).json()).toMatchObject({ success: false });
      expect((await api("GET", "/ldap/users/search")).status).toBe(503);
    });
  });
});

