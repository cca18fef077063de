/**
 * The web UI's sessions over HTTP against a real Berth: sign-in and sign-out, the cookie's flags, rotation, expiry,
 * CSRF on writes, the cookie refused where it must not count (/v2), robots refused, and the UI's security headers.
 */
import { createHash } from "node:crypto";
import { Client } from "pg";
import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../support/berth";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { testIf } from "../support/tools";
import { signedIn, signIn, withSession } from "./ui-client";

const PASSWORD = "Session-Passw0rd-1";
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let berth: TestBerth;
let admin: RegistryClient;

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_LOGIN_FAILURES_PER_USER: "3", BERTH_PROJECT_CREATION_RESTRICTION: "everyone" } });
  admin = new RegistryClient(berth.url);
  await admin.createUser("carol", PASSWORD);
  await admin.createUser("dave", PASSWORD);
});
afterAll(() => berth.close());

const current = (init: RequestInit) => fetch(`${berth.url}/api/v2.0/users/current`, init);

describe("signing in", () => {
  test("sets an HttpOnly, SameSite=Lax session cookie for the whole site and answers the CSRF token", async () => {
    const response = await signIn(berth.url, "carol", PASSWORD);
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43}; /);
    expect(cookie.split("; ")).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=43200"]));
    expect(cookie).not.toContain("Secure"); // plain http here; the TLS test below sees it
    expect(response.headers.get("x-harbor-csrf-token")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  test("the cookie authenticates /api like Basic auth, and every answer repeats the CSRF token", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    const response = await current(withSession(session, { csrf: null }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { username: string }).username).toBe("carol");
    expect(response.headers.get("x-harbor-csrf-token")).toBe(session.csrf);
  });

  test("accepts Harbor's form body", async () => {
    const response = await signIn(berth.url, "carol", PASSWORD, { form: true });
    expect(response.status).toBe(200);
  });

  test("a wrong password is 401 in Harbor's error shape, and the login throttle applies", async () => {
    const wrong = await signIn(berth.url, "dave", "not-it");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] });
    await signIn(berth.url, "dave", "not-it");
    await signIn(berth.url, "dave", "not-it");
    const locked = await signIn(berth.url, "dave", PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await locked.json()) as { errors: { code: string }[] }).errors[0].code).toBe("TOO_MANY_REQUEST");
  });

  test("a missing password is 400", async () => {
    const response = await fetch(`${berth.url}/c/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ principal: "carol" }) });
    expect(response.status).toBe(400);
  });

  test("robots may not sign in to the UI", async () => {
    const robot = await admin.createRobot({ name: "ui-bot", level: "system", duration: -1, permissions: [{ kind: "project", namespace: "*", access: [{ resource: "repository", action: "pull" }] }] });
    const response = await signIn(berth.url, robot.name, robot.secret);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { errors: { message: string }[] }).errors[0].message).toBe("robot accounts cannot sign in to the web interface");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  test("rotates: signing in again with a session ends that session and starts a new one", async () => {
    const first = await signedIn(berth.url, "carol", PASSWORD);
    const again = await signIn(berth.url, "carol", PASSWORD, { cookie: first.cookie });
    const second = again.headers.get("set-cookie")!.split(";")[0];
    expect(second).not.toBe(first.cookie);
    expect((await current(withSession(first))).status).toBe(401);
    expect((await current({ headers: { Cookie: second } })).status).toBe(200);
  });

  test("an unknown or malformed cookie is no session (401 where a user is needed)", async () => {
    expect((await current({ headers: { Cookie: "sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } })).status).toBe(401);
    expect((await current({ headers: { Cookie: "sid=../../etc" } })).status).toBe(401);
  });
});

describe("CSRF", () => {
  const createProject = (init: RequestInit, name: string) =>
    fetch(`${berth.url}/api/v2.0/projects`, { ...init, method: "POST", headers: { ...Object.fromEntries(new Headers(init.headers)), "Content-Type": "application/json" }, body: JSON.stringify({ project_name: name }) });

  test("a write with the session's token is accepted", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    expect((await createProject(withSession(session), "csrf-ok")).status).toBe(201);
  });

  test("a write without the token, or with another session's, is refused before it happens", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    const other = await signedIn(berth.url, "carol", PASSWORD);
    for (const csrf of [null, other.csrf, "", session.csrf.slice(1)]) {
      const response = await createProject(withSession(session, { csrf }), "csrf-refused");
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ errors: [{ code: "FORBIDDEN", message: "CSRF token invalid" }] });
    }
    expect((await admin.fetch("/api/v2.0/projects/csrf-refused")).status).toBe(404);
  });

  test("Basic auth needs no token, cookie or not", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    const init = withSession(session, { csrf: null, headers: { Authorization: basicAuth("carol", PASSWORD) } });
    expect((await createProject(init, "csrf-basic")).status).toBe(201);
  });
});

describe("where the cookie counts", () => {
  test("not on /v2: registry clients keep Basic and bearer auth", async () => {
    await admin.createProject("cookie-private", { public: false });
    await admin.pushImage("cookie-private/app", "v1");
    const session = await signedIn(berth.url, "admin", ADMIN_PASSWORD);
    expect((await admin.fetch("/v2/cookie-private/app/manifests/v1")).status).toBe(200);
    const withCookie = await fetch(`${berth.url}/v2/cookie-private/app/manifests/v1`, withSession(session));
    expect(withCookie.status).toBe(401);
    expect((await fetch(`${berth.url}/v2/`, withSession(session))).status).toBe(401);
    // The token service ignores it too: the token it hands out is an anonymous one, which cannot pull here.
    const tokenAnswer = await fetch(`${berth.url}/service/token?service=berth&scope=repository:cookie-private/app:pull`, withSession(session));
    const { token } = (await tokenAnswer.json()) as { token: string };
    expect((await fetch(`${berth.url}/v2/cookie-private/app/manifests/v1`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });
});

describe("signing out", () => {
  test("deletes the session on the server: the old cookie is 401 afterwards", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    const out = await fetch(`${berth.url}/c/log_out`, withSession(session, { method: "POST" }));
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/^sid=; .*Max-Age=0/);
    expect((await current(withSession(session))).status).toBe(401);
  });

  test("needs the CSRF token", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    expect((await fetch(`${berth.url}/c/log_out`, withSession(session, { method: "POST", csrf: null }))).status).toBe(403);
    expect((await current(withSession(session))).status).toBe(200);
  });
});

describe("a new password", () => {
  test("ends every session made with the old one", async () => {
    const id = await admin.createUser("frank", PASSWORD);
    const session = await signedIn(berth.url, "frank", PASSWORD);
    expect((await current(withSession(session))).status).toBe(200);
    const changed = await admin.fetch(`/api/v2.0/users/${id}/password`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ new_password: "Session-Passw0rd-2" }) });
    expect(changed.status).toBe(200);
    expect((await current(withSession(session))).status).toBe(401);
    expect((await current(withSession(await signedIn(berth.url, "frank", "Session-Passw0rd-2")))).status).toBe(200);
  });
});

describe("expiry", () => {
  const databaseUrl = () => berth.databaseUrl;
  // The clocks are moved in the database (only reachable on PostgreSQL); the rules themselves are unit-tested.
  testIf(process.env.BERTH_TEST_DATABASE_URL !== undefined, "BERTH_TEST_DATABASE_URL (PostgreSQL) to move a session's clocks")(
    "a session idle too long, or too old, is over and deleted",
    async () => {
      const idle = await signedIn(berth.url, "carol", PASSWORD);
      const old = await signedIn(berth.url, "carol", PASSWORD);
      const fresh = await signedIn(berth.url, "carol", PASSWORD);
      const db = new Client({ connectionString: databaseUrl() });
      await db.connect();
      try {
        const hashOf = (cookie: string) => createHash("sha256").update(cookie.slice("sid=".length)).digest();
        await db.query("UPDATE ui_sessions SET last_seen_at = now() - interval '31 minutes' WHERE id_hash = $1", [hashOf(idle.cookie)]);
        await db.query("UPDATE ui_sessions SET created_at = now() - interval '13 hours' WHERE id_hash = $1", [hashOf(old.cookie)]);
        expect((await current(withSession(idle))).status).toBe(401);
        expect((await current(withSession(old))).status).toBe(401);
        expect((await current(withSession(fresh))).status).toBe(200);
        const left = await db.query("SELECT count(*)::int AS n FROM ui_sessions WHERE id_hash = ANY($1)", [[hashOf(idle.cookie), hashOf(old.cookie)]]);
        expect(left.rows[0].n).toBe(0);
      } finally {
        await db.end();
      }
    },
  );
});

describe("the UI's pages and files", () => {
  test("/ leads to the UI, whose pages carry the strict CSP and may not be framed", async () => {
    const root = await fetch(`${berth.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/ui/");
    for (const path of ["/ui/", "/ui/projects", "/ui/projects/library/repositories"]) {
      const page = await fetch(`${berth.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("content-security-policy")).toBe(CSP);
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      const html = await page.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
      expect(html).not.toMatch(/<style|style=/);
    }
  });

  test("hashed files are cached for a year and sent compressed when the browser accepts it", async () => {
    const html = await (await fetch(`${berth.url}/ui/`)).text();
    const script = /src="(\/ui\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)![1];
    const brotli = await fetch(`${berth.url}${script}`, { headers: { "Accept-Encoding": "br" } });
    expect(brotli.status).toBe(200);
    expect(brotli.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(brotli.headers.get("content-encoding")).toBe("br");
    expect(brotli.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(brotli.headers.get("content-security-policy")).toBe(CSP);
    expect((await fetch(`${berth.url}/ui/assets/nothing-here.js`)).status).toBe(404);
  });

  test("the API keeps its own CSP", async () => {
    const response = await fetch(`${berth.url}/api/v2.0/systeminfo`);
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(await response.json()).toEqual({ auth_mode: "db_auth", self_registration: false, harbor_version: expect.any(String) });
  });

  test("systeminfo tells signed-in callers who may create projects", async () => {
    const session = await signedIn(berth.url, "carol", PASSWORD);
    expect(await (await fetch(`${berth.url}/api/v2.0/systeminfo`, withSession(session))).json()).toMatchObject({ project_creation_restriction: "everyone" });
  });
});

describe("behind https", () => {
  test("the cookie is Secure when Berth is reached over https (BERTH_PUBLIC_URL)", async () => {
    const https = await startBerth({ env: { BERTH_PUBLIC_URL: "https://registry.example.com" } });
    try {
      const response = await signIn(https.url, "admin", ADMIN_PASSWORD);
      expect(response.headers.get("set-cookie")!.split("; ")).toContain("Secure");
    } finally {
      await https.close();
    }
  });
});
