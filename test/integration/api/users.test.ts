import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
const PASSWORD = "Carol-Passw0rd";
const NEW_PASSWORD = "Carol-N3wPass";

/** Every response this file receives, headers and body, for the check that no password hash ever leaves. */
const transcript: string[] = [];

class RecordingClient extends RegistryClient {
  override async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await super.fetch(path, init);
    transcript.push(`${[...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${await response.clone().text()}`);
    return response;
  }
}

let admin: RecordingClient;
const as = (username: string, password: string) => new RecordingClient(berth.url, basicAuth(username, password));
const anonymous = () => new RecordingClient(berth.url, null);

beforeAll(async () => {
  berth = await startBerth();
  admin = new RecordingClient(berth.url);
});
afterAll(() => berth.close());

const json = (method: string, value: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });
const raw = (method: string, body: string): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body });
const errorCode = async (response: Response) => ((await response.json()) as { errors: { code: string }[] }).errors[0]!.code;

describe("users API", () => {
  let carolId: number;
  let carol: RecordingClient;

  it("creates a user (201 + Location) who can then log in on /v2/", async () => {
    const input = { username: "carol", password: PASSWORD, email: "carol@example.com", realname: "Carol", comment: "ops" };
    const response = await admin.fetch("/api/v2.0/users", json("POST", input));
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toMatch(/^\/api\/v2\.0\/users\/\d+$/);
    carolId = Number(response.headers.get("location")!.split("/").pop());
    carol = as("carol", PASSWORD);
    expect((await carol.fetch("/v2/")).status).toBe(200);
  });

  it("shows a user in Harbor's shape, nothing more", async () => {
    const user = (await (await admin.fetch(`/api/v2.0/users/${carolId}`)).json()) as Record<string, unknown>;
    expect(user).toEqual({
      user_id: carolId,
      username: "carol",
      email: "carol@example.com",
      realname: "Carol",
      comment: "ops",
      sysadmin_flag: false,
      creation_time: expect.any(String),
      update_time: expect.any(String),
    });
  });

  it.each([
    ["a weak password", { username: "weak", password: "password" }, 400],
    ["a missing password", { username: "nopass" }, 400],
    ["a reserved robot$ name", { username: "robot$x", password: PASSWORD }, 400],
    ["a name with a comma", { username: "a,b", password: PASSWORD }, 400],
    ["an empty name", { username: "", password: PASSWORD }, 400],
    ["an invalid email", { username: "mailless", password: PASSWORD, email: "not-an-address" }, 400],
    ["a comment over 30 characters", { username: "chatty", password: PASSWORD, comment: "x".repeat(31) }, 400],
    ["a taken username", { username: "carol", password: PASSWORD }, 409],
    ["a taken email, in any case", { username: "carol2", password: PASSWORD, email: "CAROL@example.com" }, 409],
  ])("refuses %s", async (_case, input, status) => {
    expect((await admin.fetch("/api/v2.0/users", json("POST", input))).status).toBe(status);
  });

  it.each([
    ["malformed JSON", "{"],
    ["an array", "[]"],
    ["a string", '"carol"'],
  ])("refuses %s as a body, in Harbor's envelope", async (_case, body) => {
    const response = await admin.fetch("/api/v2.0/users", raw("POST", body));
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe("BAD_REQUEST");
  });

  it("lists users for admins, paged, with X-Total-Count and Link", async () => {
    await admin.createUser("dave", PASSWORD);
    const first = await admin.fetch("/api/v2.0/users?page=1&page_size=2");
    expect(((await first.json()) as { username: string }[]).map((u) => u.username)).toEqual(["admin", "carol"]);
    expect(first.headers.get("x-total-count")).toBe("3");
    expect(first.headers.get("link")).toBe('</api/v2.0/users?page=2&page_size=2>; rel="next"');
    const second = await admin.fetch("/api/v2.0/users?page=2&page_size=2");
    expect(((await second.json()) as { username: string }[]).map((u) => u.username)).toEqual(["dave"]);
    expect(second.headers.get("link")).toBe('</api/v2.0/users?page=1&page_size=2>; rel="prev"');
    expect((await admin.fetch("/api/v2.0/users?page_size=101")).status).toBe(422);
    expect((await admin.fetch("/api/v2.0/users?page=0")).status).toBe(400);
  });

  it.each([
    ["q=username=~AR", ["carol"]],
    ["q=username=car", []],
    ["q=username=carol", ["carol"]],
    ["q=username=~%25", []],
  ])("filters the list with %s", async (query, names) => {
    const response = await admin.fetch(`/api/v2.0/users?${query}`);
    expect(((await response.json()) as { username: string }[]).map((u) => u.username)).toEqual(names);
  });

  it("answers 401 to anonymous callers and 403 to non-admins on admin-only routes", async () => {
    for (const [path, init] of [
      ["/api/v2.0/users", {}],
      ["/api/v2.0/users", json("POST", { username: "eve", password: PASSWORD })],
      ["/api/v2.0/users/1", { method: "DELETE" }],
      ["/api/v2.0/users/1", json("PUT", { realname: "x" })],
      ["/api/v2.0/users/1/password", json("PUT", { new_password: "Taken-0ver" })],
      [`/api/v2.0/users/${carolId}/sysadmin`, json("PUT", { sysadmin_flag: true })],
    ] as const) {
      const denied = await carol.fetch(path, init);
      expect([path, denied.status, await errorCode(denied)]).toEqual([path, 403, "FORBIDDEN"]);
      const unknown = await anonymous().fetch(path, init);
      expect([path, unknown.status, await errorCode(unknown)]).toEqual([path, 401, "UNAUTHORIZED"]);
    }
  });

  it("answers the current user, and 401 when anonymous", async () => {
    const me = (await (await carol.fetch("/api/v2.0/users/current")).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ user_id: carolId, username: "carol", sysadmin_flag: false });
    expect((await anonymous().fetch("/api/v2.0/users/current")).status).toBe(401);
  });

  it("searches users by name for project admins, paged", async () => {
    await admin.createProject("search-team", { public: false });
    await admin.addMember("search-team", "carol", 1);
    const found = await carol.fetch("/api/v2.0/users/search?username=A&page_size=1");
    expect(await found.json()).toEqual([{ user_id: 1, username: "admin" }]);
    expect(found.headers.get("x-total-count")).toBe("3");
    expect(found.headers.get("link")).toContain('rel="next"');
    expect((await carol.fetch("/api/v2.0/users/search")).status).toBe(400);
    expect((await anonymous().fetch("/api/v2.0/users/search?username=a")).status).toBe(401);
  });

  it("shows users themselves, and others only to admins; bad ids are 400, unknown ones 404", async () => {
    expect((await carol.fetch(`/api/v2.0/users/${carolId}`)).status).toBe(200);
    expect((await carol.fetch("/api/v2.0/users/1")).status).toBe(403);
    const routes = [
      [{}, ""],
      [json("PUT", { realname: "x" }), ""],
      [{ method: "DELETE" }, ""],
      [json("PUT", { new_password: NEW_PASSWORD }), "/password"],
      [json("PUT", { sysadmin_flag: true }), "/sysadmin"],
    ] as const;
    for (const [init, suffix] of routes) {
      expect((await admin.fetch(`/api/v2.0/users/99999${suffix}`, init)).status).toBe(404);
      expect((await admin.fetch(`/api/v2.0/users/abc${suffix}`, init)).status).toBe(400);
      expect((await admin.fetch(`/api/v2.0/users/-1${suffix}`, init)).status).toBe(400);
    }
  });

  it("updates profile fields, for the user themselves", async () => {
    expect((await carol.fetch(`/api/v2.0/users/${carolId}`, json("PUT", { realname: "Carol C.", comment: "on call" }))).status).toBe(200);
    const user = (await (await admin.fetch(`/api/v2.0/users/${carolId}`)).json()) as Record<string, unknown>;
    expect(user).toMatchObject({ realname: "Carol C.", comment: "on call", email: "carol@example.com" });
  });

  it("refuses a user manager a profile update with a taken email; refuses an invalid email, or a body that is not an object", async () => {
    expect((await admin.fetch(`/api/v2.0/users/${carolId}`, json("PUT", { email: "Dave@Example.com" }))).status).toBe(409);
    expect((await carol.fetch(`/api/v2.0/users/${carolId}`, json("PUT", { email: "nope" }))).status).toBe(400);
    expect((await carol.fetch(`/api/v2.0/users/${carolId}`, raw("PUT", "{"))).status).toBe(400);
    expect((await carol.fetch(`/api/v2.0/users/${carolId}`, raw("PUT", "null"))).status).toBe(400);
  });

  it("changes a password: the old one must be right, the new one strong and different, and the old stops at once", async () => {
    const path = `/api/v2.0/users/${carolId}/password`;
    expect((await carol.fetch(path, json("PUT", { old_password: "Nope-12345", new_password: NEW_PASSWORD }))).status).toBe(403);
    expect((await carol.fetch(path, json("PUT", { new_password: NEW_PASSWORD }))).status).toBe(403);
    expect((await carol.fetch(path, json("PUT", { old_password: PASSWORD, new_password: "short" }))).status).toBe(400);
    expect((await carol.fetch(path, json("PUT", { old_password: PASSWORD, new_password: PASSWORD }))).status).toBe(400);
    expect((await carol.fetch(path, json("PUT", { old_password: PASSWORD, new_password: NEW_PASSWORD }))).status).toBe(200);
    // carol's old credentials were used (and remembered) a moment ago: they must still fail right away.
    expect((await carol.fetch("/v2/")).status).toBe(401);
    carol = as("carol", NEW_PASSWORD);
    expect((await carol.fetch("/v2/")).status).toBe(200);
  });

  it("lets an admin reset a password without the old one", async () => {
    expect((await admin.fetch(`/api/v2.0/users/${carolId}/password`, json("PUT", { new_password: PASSWORD }))).status).toBe(200);
    expect((await carol.fetch("/v2/")).status).toBe(401);
    carol = as("carol", PASSWORD);
    expect((await carol.fetch("/v2/")).status).toBe(200);
  });

  it("grants and revokes system admin rights, effective at once", async () => {
    const path = `/api/v2.0/users/${carolId}/sysadmin`;
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(403);
    expect((await admin.fetch(path, json("PUT", { sysadmin_flag: true }))).status).toBe(200);
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(200);
    expect((await admin.fetch(path, json("PUT", { sysadmin_flag: false }))).status).toBe(200);
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(403);
    expect((await admin.fetch(path, json("PUT", { sysadmin_flag: "yes" }))).status).toBe(400);
    expect((await admin.fetch("/api/v2.0/users/1/sysadmin", json("PUT", { sysadmin_flag: false }))).status).toBe(403);
  });

  it("reports a member's permissions in a project, relative to it", async () => {
    await admin.createProject("perm-check", { public: false });
    await admin.addMember("perm-check", "carol", 2);
    const project = (await (await admin.fetch("/api/v2.0/projects/perm-check")).json()) as { project_id: number };
    const response = await carol.fetch(`/api/v2.0/users/current/permissions?scope=/project/${project.project_id}&relative=true`);
    const permissions = (await response.json()) as { resource: string; action: string }[];
    expect(permissions).toEqual(expect.arrayContaining([{ resource: "repository", action: "push" }]));
    expect(permissions).not.toEqual(expect.arrayContaining([{ resource: "artifact", action: "delete" }]));
  });

  it("refuses to delete the built-in admin or oneself", async () => {
    expect((await admin.fetch("/api/v2.0/users/1", { method: "DELETE" })).status).toBe(403);
    const [dave] = (await (await admin.fetch("/api/v2.0/users?q=username=dave")).json()) as { user_id: number }[];
    const daveId = dave!.user_id;
    expect((await admin.fetch(`/api/v2.0/users/${daveId}/sysadmin`, json("PUT", { sysadmin_flag: true }))).status).toBe(200);
    expect((await as("dave", PASSWORD).fetch(`/api/v2.0/users/${daveId}`, { method: "DELETE" })).status).toBe(403);
  });

  it("deletes a user, who can no longer log in", async () => {
    expect((await admin.fetch(`/api/v2.0/users/${carolId}`, { method: "DELETE" })).status).toBe(200);
    expect((await carol.fetch("/v2/")).status).toBe(401);
    expect((await admin.fetch(`/api/v2.0/users/${carolId}`)).status).toBe(404);
    const members = (await (await admin.fetch("/api/v2.0/projects/perm-check/members")).json()) as { entity_name: string }[];
    expect(members.map((m) => m.entity_name)).not.toContain("carol");
  });

  it("audits every change to a user", async () => {
    const records = (await (await admin.fetch("/api/v2.0/audit-logs?q=resource_type=user,resource=carol&page_size=100")).json()) as { operation: string }[];
    const count = (operation: string) => records.filter((r) => r.operation === operation).length;
    // create; profile update, own password change, admin reset, promote, demote; delete
    expect([count("create"), count("update"), count("delete")]).toEqual([1, 5, 1]);
  });
});

describe("what users and robots may not do to others' accounts", () => {
  const ids: Record<string, number> = {};
  let userManager: RecordingClient;
  let puller: RecordingClient;
  const robotClient = async (body: Record<string, unknown>) => {
    const robot = await admin.createRobot({ duration: -1, ...body });
    return new RecordingClient(berth.url, basicAuth(robot.name, robot.secret));
  };

  beforeAll(async () => {
    for (const name of ["erin", "fred", "gina", "pam"]) ids[name] = await admin.createUser(name, PASSWORD);
    await admin.fetch(`/api/v2.0/users/${ids.fred}/sysadmin`, json("PUT", { sysadmin_flag: true }));
    await admin.createProject("pam-team", { public: false });
    await admin.addMember("pam-team", "pam", 1);
    const grants = ["read", "update", "delete"].map((action) => ({ resource: "user", action }));
    userManager = await robotClient({ name: "user-manager", level: "system", permissions: [{ kind: "system", namespace: "/", access: grants }] });
    const pull = [{ kind: "project", namespace: "pam-team", access: [{ resource: "repository", action: "pull" }] }];
    puller = await robotClient({ name: "puller", level: "project", permissions: pull });
  });

  it("lets no robot set a password, and only system admins touch a system admin's account", async () => {
    for (const id of [1, ids.fred, ids.erin]) {
      const reset = await userManager.fetch(`/api/v2.0/users/${id}/password`, json("PUT", { new_password: "Taken-0ver!" }));
      expect([id, reset.status, await errorCode(reset)]).toEqual([id, 403, "FORBIDDEN"]);
    }
    expect((await as("admin", ADMIN_PASSWORD).fetch("/api/v2.0/users")).status).toBe(200);
    for (const id of [1, ids.fred]) {
      expect((await userManager.fetch(`/api/v2.0/users/${id}`, json("PUT", { email: "robot@example.com" }))).status).toBe(403);
      expect((await userManager.fetch(`/api/v2.0/users/${id}`, { method: "DELETE" })).status).toBe(403);
    }
    const fred = (await (await admin.fetch(`/api/v2.0/users/${ids.fred}`)).json()) as { email: string; sysadmin_flag: boolean };
    expect(fred).toMatchObject({ email: "fred@example.com", sysadmin_flag: true });
    expect((await as("erin", PASSWORD).fetch(`/api/v2.0/users/${ids.fred}/password`, json("PUT", { new_password: "Taken-0ver!" }))).status).toBe(403);
    // The robot still manages ordinary accounts, and a system admin still resets passwords.
    expect((await userManager.fetch(`/api/v2.0/users/${ids.erin}`, json("PUT", { realname: "Erin E." }))).status).toBe(200);
    expect((await userManager.fetch(`/api/v2.0/users/${ids.gina}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/users/${ids.fred}/password`, json("PUT", { new_password: NEW_PASSWORD }))).status).toBe(200);
  });

  it("searches usernames for system admins and project admins only", async () => {
    expect((await as("erin", PASSWORD).fetch("/api/v2.0/users/search?username=a")).status).toBe(403);
    expect((await puller.fetch("/api/v2.0/users/search?username=a")).status).toBe(403);
    const found = await as("pam", PASSWORD).fetch("/api/v2.0/users/search?username=erin");
    expect(await found.json()).toEqual([{ user_id: ids.erin, username: "erin" }]);
    expect((await admin.fetch("/api/v2.0/users/search?username=erin")).status).toBe(200);
  });

  it("answers a self-service email change the same whether another account holds the address or not", async () => {
    const erin = as("erin", PASSWORD);
    const taken = await erin.fetch(`/api/v2.0/users/${ids.erin}`, json("PUT", { email: "PAM@example.com" }));
    const free = await erin.fetch(`/api/v2.0/users/${ids.erin}`, json("PUT", { email: "nobody-has-this@example.com" }));
    expect([taken.status, await taken.text()]).toEqual([free.status, await free.text()]);
    expect(taken.status).toBe(200);
    expect((await erin.fetch(`/api/v2.0/users/${ids.erin}`, json("PUT", { email: "pam@example.com" }))).status).toBe(200);
    expect(((await (await erin.fetch("/api/v2.0/users/current")).json()) as { email: string }).email).toBe("pam@example.com");
  });
});

describe("failed-login throttling", () => {
  it("answers 429 after repeated wrong passwords, even with the right one, on /api and /v2", async () => {
    await admin.createUser("guesser", PASSWORD);
    for (let i = 0; i < 5; i++) expect((await as("guesser", `Wrong-${i}-Pass`).fetch("/api/v2.0/users/current")).status).toBe(401);
    const blocked = await as("guesser", PASSWORD).fetch("/api/v2.0/users/current");
    expect(blocked.status).toBe(429);
    // The first block lasts a minute: the client is told how long to wait.
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(await errorCode(blocked)).toBe("TOO_MANY_REQUEST");
    const blockedOnV2 = await as("guesser", PASSWORD).fetch("/v2/");
    expect(blockedOnV2.status).toBe(429);
    expect(blockedOnV2.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await errorCode(blockedOnV2)).toBe("TOOMANYREQUESTS");
    // Only that username is blocked: others from the same address still get in.
    expect((await as("dave", PASSWORD).fetch("/v2/")).status).toBe(200);
  });
});

afterAll(() => {
  // Every response of both describes above, headers included; the pattern also catches a bare `$N$r$p$` tail.
  expect(transcript.length).toBeGreaterThan(50);
  expect(transcript.join("\n")).not.toMatch(/scrypt\$|password_hash|\$\d+\$\d+\$\d+\$/);
});
