import { startBerth, type TestBerth } from "../../support/berth";
import { basicAuth, RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
let admin: RegistryClient;
const PASSWORD = "Carol-Passw0rd";
const bodies: string[] = [];

beforeAll(async () => {
  berth = await startBerth();
  admin = new RegistryClient(berth.url);
});
afterAll(() => berth.close());

const json = (method: string, value: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });
async function read(response: Response): Promise<unknown> {
  const text = await response.text();
  bodies.push(text);
  return text ? JSON.parse(text) : undefined;
}
const as = (username: string, password: string) => new RegistryClient(berth.url, basicAuth(username, password));

describe("users API", () => {
  let carolId: number;

  it("creates a user (201 + Location) who can then log in on /v2/", async () => {
    carolId = await admin.createUser("carol", PASSWORD);
    expect((await as("carol", PASSWORD).fetch("/v2/")).status).toBe(200);
  });

  it.each([
    ["a weak password", { username: "weak", password: "password" }, 400],
    ["a reserved robot$ name", { username: "robot$x", password: PASSWORD }, 400],
    ["a name with a comma", { username: "a,b", password: PASSWORD }, 400],
    ["a taken username", { username: "carol", password: PASSWORD }, 409],
    ["a taken email", { username: "carol2", password: PASSWORD, email: "carol@example.com" }, 409],
  ])("refuses %s", async (_case, input, status) => {
    expect((await admin.fetch("/api/v2.0/users", json("POST", input))).status).toBe(status);
  });

  it("refuses malformed JSON with Harbor's envelope", async () => {
    const response = await admin.fetch("/api/v2.0/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" });
    expect(response.status).toBe(400);
    expect(((await read(response)) as { errors: { code: string }[] }).errors[0]!.code).toBe("BAD_REQUEST");
  });

  it("lists and searches users for admins only", async () => {
    const list = (await read(await admin.fetch("/api/v2.0/users?q=username=~car"))) as { username: string }[];
    expect(list.map((u) => u.username)).toEqual(["carol"]);
    expect((await as("carol", PASSWORD).fetch("/api/v2.0/users")).status).toBe(403);
    expect((await new RegistryClient(berth.url, null).fetch("/api/v2.0/users")).status).toBe(401);
    const found = (await read(await as("carol", PASSWORD).fetch("/api/v2.0/users/search?username=adm"))) as { username: string }[];
    expect(found).toEqual([{ user_id: 1, username: "admin" }]);
  });

  it("shows users themselves, and others only to admins", async () => {
    const me = (await read(await as("carol", PASSWORD).fetch("/api/v2.0/users/current"))) as Record<string, unknown>;
    expect(me).toMatchObject({ user_id: carolId, username: "carol", sysadmin_flag: false, email: "carol@example.com" });
    expect((await as("carol", PASSWORD).fetch("/api/v2.0/users/1")).status).toBe(403);
    expect((await admin.fetch("/api/v2.0/users/99999")).status).toBe(404);
    expect((await admin.fetch("/api/v2.0/users/abc")).status).toBe(400);
  });

  it("updates profile fields", async () => {
    expect((await as("carol", PASSWORD).fetch(`/api/v2.0/users/${carolId}`, json("PUT", { realname: "Carol C." }))).status).toBe(200);
    expect(((await read(await admin.fetch(`/api/v2.0/users/${carolId}`))) as { realname: string }).realname).toBe("Carol C.");
  });

  it("changes a password: the old one must be right, and stops working at once", async () => {
    const carol = as("carol", PASSWORD);
    const wrongOld = await carol.fetch(`/api/v2.0/users/${carolId}/password`, json("PUT", { old_password: "Nope-12345", new_password: "Carol-N3wPass" }));
    expect(wrongOld.status).toBe(403);
    const weak = await carol.fetch(`/api/v2.0/users/${carolId}/password`, json("PUT", { old_password: PASSWORD, new_password: "short" }));
    expect(weak.status).toBe(400);
    const ok = await carol.fetch(`/api/v2.0/users/${carolId}/password`, json("PUT", { old_password: PASSWORD, new_password: "Carol-N3wPass" }));
    expect(ok.status).toBe(200);
    expect((await carol.fetch("/v2/")).status).toBe(401);
    expect((await as("carol", "Carol-N3wPass").fetch("/v2/")).status).toBe(200);
  });

  it("lets an admin reset a password without the old one", async () => {
    const reset = await admin.fetch(`/api/v2.0/users/${carolId}/password`, json("PUT", { new_password: PASSWORD }));
    expect(reset.status).toBe(200);
    expect((await as("carol", PASSWORD).fetch("/v2/")).status).toBe(200);
  });

  it("grants and revokes system admin rights, effective at once", async () => {
    const carol = as("carol", PASSWORD);
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(403);
    expect((await admin.fetch(`/api/v2.0/users/${carolId}/sysadmin`, json("PUT", { sysadmin_flag: true }))).status).toBe(200);
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/users/${carolId}/sysadmin`, json("PUT", { sysadmin_flag: false }))).status).toBe(200);
    expect((await carol.fetch("/api/v2.0/users")).status).toBe(403);
    expect((await admin.fetch("/api/v2.0/users/1/sysadmin", json("PUT", { sysadmin_flag: false }))).status).toBe(403);
  });

  it("reports a member's permissions in a project, relative to it", async () => {
    await admin.createProject("perm-check", { public: false });
    await admin.addMember("perm-check", "carol", 2);
    const project = (await read(await admin.fetch("/api/v2.0/projects/perm-check"))) as { project_id: number };
    const permissions = (await read(
      await as("carol", PASSWORD).fetch(`/api/v2.0/users/current/permissions?scope=/project/${project.project_id}&relative=true`),
    )) as { resource: string; action: string }[];
    expect(permissions).toEqual(expect.arrayContaining([{ resource: "repository", action: "push" }]));
    expect(permissions).not.toEqual(expect.arrayContaining([{ resource: "artifact", action: "delete" }]));
  });

  it("deletes a user, who can no longer log in; the built-in admin cannot be deleted", async () => {
    expect((await admin.fetch("/api/v2.0/users/1", { method: "DELETE" })).status).toBe(403);
    expect((await admin.fetch(`/api/v2.0/users/${carolId}`, { method: "DELETE" })).status).toBe(200);
    expect((await as("carol", PASSWORD).fetch("/v2/")).status).toBe(401);
  });

  it("never returns a password hash", async () => {
    expect(bodies.join("\n")).not.toMatch(/scrypt\$|password_hash/);
  });
});

describe("failed-login throttling", () => {
  it("answers 429 after repeated wrong passwords, even with the right one", async () => {
    await admin.createUser("guesser", PASSWORD);
    for (let i = 0; i < 5; i++) expect((await as("guesser", `Wrong-${i}-Pass`).fetch("/api/v2.0/users/current")).status).toBe(401);
    const blocked = await as("guesser", PASSWORD).fetch("/api/v2.0/users/current");
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("TOO_MANY_REQUEST");
    expect((await as("guesser", PASSWORD).fetch("/v2/")).status).toBe(429);
  });
});
