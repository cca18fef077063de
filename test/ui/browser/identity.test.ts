/**
 * Single sign-on in a real browser against a real Berth on PostgreSQL: the OIDC sign-in through the test provider's
 * own sign-in and consent pages (oidc-provider), the profile's CLI secret, an LDAP directory user of Debian's slapd,
 * and group members in the project's members tab. Needs `npm run build` first (the UI is served from dist/ui).
 * Screenshots go to test-output/ui/ at 1280x800.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { ADMIN_AUTH, ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { browserJourneys, CHROMIUM, hasChromium, SHOTS } from "../../support/browser";
import { IDP_CLIENT_ID, idpPassword, oidcModeEnv, startIdp, type TestIdp } from "../../support/oidc";
import { basicAuth } from "../../support/registry-client";
import { groupDn, ldapModeEnv, PEOPLE, slapdAvailable, startSlapd, type Slapd } from "../../support/slapd";
import { describeIf } from "../../support/tools";

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, name) });

/** A request to Berth's API as the built-in admin; fails the test on an unexpected status. */
async function asAdmin(berth: TestBerth, method: string, pathAndQuery: string, body: unknown, status: number): Promise<Response> {
  const response = await fetch(`${berth.url}/api/v2.0${pathAndQuery}`, {
    method,
    headers: { authorization: ADMIN_AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status !== status) throw new Error(`${method} ${pathAndQuery}: ${response.status} ${await response.text()}`);
  return response;
}

/** Opens the header's user menu (a screenshot of it when `menuShot` names one) and its "User profile" entry. */
async function openProfile(page: Page, username: string, menuShot?: string) {
  await page.locator("summary", { hasText: username }).click();
  const entry = page.getByRole("link", { name: "User profile" });
  await entry.waitFor();
  if (menuShot) await shot(page, menuShot);
  await entry.click();
  await page.getByRole("heading", { name: "User profile" }).waitFor();
}

describeIf(hasChromium(), `Debian's chromium at ${CHROMIUM}`, "single sign-on in chromium", () => {
  const journey = browserJourneys();

  describe("OIDC (BERTH_AUTH_MODE=oidc, oidc-provider as the identity provider)", () => {
    let idp: TestIdp;
    let berth: TestBerth;
    let dir: string;

    beforeAll(async () => {
      idp = await startIdp();
      dir = await mkdtemp(path.join(tmpdir(), "berth-ui-oidc-"));
      berth = await startBerth({ env: { ...(await oidcModeEnv(idp, dir)), BERTH_OIDC_ADMIN_GROUP: "berth-admins" } });
      await idp.configure(`${berth.url}/c/oidc/callback`);
      // bob is in "devs" at the provider: the group's membership lets him see the private project.
      await asAdmin(berth, "POST", "/projects", { project_name: "devs-only", metadata: { public: "false" } }, 201);
      await asAdmin(berth, "POST", "/projects/devs-only/members", { role_id: 2, member_group: { group_type: 3, group_name: "devs" } }, 201);
      await asAdmin(berth, "POST", "/projects", { project_name: "ops-only", metadata: { public: "false" } }, 201);
    }, 60_000);
    afterAll(async () => {
      await berth?.close();
      idp?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test("sign in with SSO through the provider's pages, then generate the CLI secret on the profile", async () => {
      const { page } = journey;
      await page.goto(`${berth.url}/ui/`);
      const sso = page.getByRole("link", { name: "Sign in with SSO" });
      await sso.waitFor();
      await shot(page, "identity-oidc-sign-in.png");
      await sso.click();

      // The provider's own sign-in page: a wrong password is refused there, the right one goes on to consent.
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect(new URL(page.url()).origin).toBe(idp.issuer);
      await page.getByLabel("Account").fill("bob");
      await page.getByLabel("Password").fill("not-his-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").getByText("Wrong account or password.").waitFor();
      await page.getByLabel("Account").fill("bob");
      await page.getByLabel("Password").fill(idpPassword("bob"));
      await shot(page, "identity-oidc-provider-login.png");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: `Authorize ${IDP_CLIENT_ID}` }).waitFor();
      await page.getByText("groups", { exact: true }).waitFor();
      await shot(page, "identity-oidc-provider-consent.png");
      await page.getByRole("button", { name: "Allow" }).click();

      // Back at Berth, signed in: the group's project is listed, the one of another group is not.
      await page.getByRole("heading", { name: "Projects" }).waitFor();
      expect(new URL(page.url()).pathname).toBe("/ui/projects");
      await page.getByRole("link", { name: "devs-only" }).waitFor();
      await expect(page.getByRole("link", { name: "ops-only" }).count()).resolves.toBe(0);
      await shot(page, "identity-oidc-projects.png");

      await openProfile(page, "bob");
      await page.getByText("Single sign-on (OIDC)").waitFor();
      await page.getByText("bob@example.test").waitFor();
      await page.getByRole("listitem").filter({ hasText: "devs" }).waitFor();
      await page.getByText("Never generated").waitFor();
      await shot(page, "identity-profile.png");

      await page.getByRole("button", { name: "Generate CLI secret" }).click();
      const shown = page.getByRole("region", { name: "New CLI secret" });
      await shown.getByText("it will not be shown again").waitFor();
      const secret = await shown.getByLabel("CLI secret", { exact: true }).inputValue();
      expect(secret.length).toBeGreaterThanOrEqual(32);
      await shown.getByText(`podman login --username bob ${new URL(berth.url).host}`).waitFor();
      await expect(page.getByText("Never generated").count()).resolves.toBe(0);
      await shot(page, "identity-cli-secret.png");

      // The secret is bob's password for registry clients (while the provider still knows him).
      const v2 = await fetch(`${berth.url}/v2/`, { headers: { authorization: basicAuth("bob", secret) } });
      expect(v2.status).toBe(200);

      // Done: gone from the page, and never kept where scripts could read it later.
      await shown.getByRole("button", { name: "Done" }).click();
      await expect(shown.count()).resolves.toBe(0);
      expect(await page.content()).not.toContain(secret);
      expect(await page.evaluate("[localStorage.length, sessionStorage.length]")).toEqual([0, 0]);

      // A second one needs a confirmation, and the first stops working.
      await page.getByRole("button", { name: "Generate CLI secret" }).click();
      await page.getByRole("dialog", { name: "Generate CLI secret" }).getByRole("button", { name: "Generate" }).click();
      const fresh = await shown.getByLabel("CLI secret", { exact: true }).inputValue();
      expect(fresh).not.toBe(secret);
      expect((await fetch(`${berth.url}/v2/`, { headers: { authorization: basicAuth("bob", secret) } })).status).toBe(401);
    });

    test("a provider account Berth cannot onboard comes back to the sign-in page with the reason", async () => {
      const { page } = journey;
      await page.goto(`${berth.url}/ui/`);
      await page.getByRole("link", { name: "Sign in with SSO" }).click();
      // mallory's provider username is "admin", which a local user holds.
      await page.getByLabel("Account").fill("mallory");
      await page.getByLabel("Password").fill(idpPassword("mallory"));
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Allow" }).click();
      await page.getByRole("alert").getByText("its username is taken by another Berth user").waitFor();
      expect(page.url()).toBe(`${berth.url}/ui/`);
      await page.getByRole("link", { name: "Sign in with SSO" }).waitFor();
      await shot(page, "identity-oidc-refused.png");
    });

    test("the built-in admin signs in locally from the same page, has no CLI secret, and adds an OIDC group member", async () => {
      const { page } = journey;
      await page.goto(`${berth.url}/ui/`);
      await page.getByText("Sign in as admin").click();
      await page.getByLabel("Username").fill("admin");
      await page.getByLabel("Password").fill(ADMIN_PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Projects" }).waitFor();
      await openProfile(page, "admin");
      await page.getByText("Local password").waitFor();
      await expect(page.getByRole("button", { name: "Generate CLI secret" }).count()).resolves.toBe(0);

      // In oidc mode "+ Group" starts with an OIDC group, named as the provider's groups claim names it.
      await page.goto(`${berth.url}/ui/projects/ops-only/members`);
      await page.getByRole("button", { name: "+ Group" }).click();
      const dialog = page.getByRole("dialog", { name: "New group member" });
      expect(await dialog.getByLabel("Group type").inputValue()).toBe("3");
      await dialog.getByLabel("Group name").fill("ops");
      await dialog.getByLabel("Role").selectOption({ label: "Guest" });
      await dialog.getByRole("button", { name: "OK" }).click();
      await page.getByRole("row", { name: /ops/ }).getByRole("cell", { name: "OIDC group" }).waitFor();
      expect(await page.getByLabel("Role of ops").inputValue()).toBe("3");
      const members = (await (await asAdmin(berth, "GET", "/projects/ops-only/members", undefined, 200)).json()) as Record<string, unknown>[];
      expect(members.filter((m) => m.entity_type === "g").map((m) => [m.entity_name, m.group_type, m.role_id])).toEqual([["ops", 3, 3]]);
    });
  });

  describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "LDAP (BERTH_AUTH_MODE=ldap, Debian's slapd)", () => {
    let slapd: Slapd;
    let berth: TestBerth;
    let dir: string;
    const DEVS = groupDn("devs");

    beforeAll(async () => {
      slapd = await startSlapd();
      dir = await mkdtemp(path.join(tmpdir(), "berth-ui-ldap-"));
      berth = await startBerth({ env: await ldapModeEnv(slapd, dir) });
      await asAdmin(berth, "POST", "/projects", { project_name: "dev-images", metadata: { public: "false" } }, 201);
      await asAdmin(berth, "POST", "/projects/dev-images/members", { role_id: 2, member_group: { group_type: 1, ldap_group_dn: DEVS, group_name: "devs" } }, 201);
    }, 60_000);
    afterAll(async () => {
      await berth?.close();
      await slapd?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function signIn(page: Page, username: string, password: string) {
      await page.goto(`${berth.url}/ui/`);
      await page.getByLabel("LDAP username").fill(username);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Projects" }).waitFor();
    }

    test("a directory user signs in and sees the project their group is a member of", async () => {
      const { page } = journey;
      await page.goto(`${berth.url}/ui/`);
      await page.getByLabel("LDAP username").waitFor();
      await shot(page, "identity-ldap-sign-in.png");
      await signIn(page, "bob", PEOPLE.bob.password);
      await page.getByRole("link", { name: "dev-images" }).waitFor();
      await shot(page, "identity-ldap-projects.png");
      await openProfile(page, "bob", "identity-user-menu.png");
      await page.getByText("LDAP directory").waitFor();
      await page.getByRole("listitem").filter({ hasText: DEVS }).waitFor();
      await shot(page, "identity-ldap-profile.png");
      await page.setViewportSize({ width: 390, height: 844 });
      await page.locator("summary", { hasText: "bob" }).click();
      await page.getByRole("link", { name: "User profile" }).waitFor();
      await page.screenshot({ path: path.join(SHOTS, "identity-ldap-profile-phone.png"), fullPage: true });
    });

    test("a directory user outside the group does not see the project", async () => {
      const { page } = journey;
      await signIn(page, "carol", PEOPLE.carol.password);
      await page.getByRole("link", { name: "library" }).waitFor();
      await expect(page.getByRole("link", { name: "dev-images" }).count()).resolves.toBe(0);
    });

    test("the members tab lists group members beside users and adds an LDAP group with a role", async () => {
      const { page } = journey;
      await page.goto(`${berth.url}/ui/`);
      await page.getByLabel("LDAP username").fill("admin");
      await page.getByLabel("Password").fill(ADMIN_PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Projects" }).waitFor();
      await page.goto(`${berth.url}/ui/projects/dev-images/members`);
      const devs = page.getByRole("row", { name: /devs/ });
      await devs.getByRole("cell", { name: "LDAP group" }).waitFor();
      await devs.getByText(DEVS).waitFor();
      await page.getByRole("row", { name: /admin/ }).getByRole("cell", { name: "User" }).waitFor();

      await page.getByRole("button", { name: "+ Group" }).click();
      const dialog = page.getByRole("dialog", { name: "New group member" });
      expect(await dialog.getByLabel("Group type").inputValue()).toBe("1");
      await dialog.getByLabel("Group DN").fill(groupDn("registry-admins"));
      await dialog.getByLabel("Role").selectOption({ label: "Maintainer" });
      await shot(page, "identity-group-member-new.png");
      await dialog.getByRole("button", { name: "OK" }).click();
      const added = page.getByLabel("Role of registry-admins");
      await added.waitFor();
      expect(await added.inputValue()).toBe("4");
      await shot(page, "identity-group-members.png");

      const members = (await (await asAdmin(berth, "GET", "/projects/dev-images/members", undefined, 200)).json()) as Record<string, unknown>[];
      expect(members.filter((m) => m.entity_type === "g").map((m) => [m.entity_name, m.group_type, m.ldap_group_dn, m.role_id])).toEqual([
        ["devs", 1, DEVS, 2],
        ["registry-admins", 1, groupDn("registry-admins"), 4],
      ]);
    });
  });
});
