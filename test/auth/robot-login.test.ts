import { AccountRefusedError, Authenticator, BadCredentialsError } from "../../registry/auth/authenticate";
import { hashPassword } from "../../registry/auth/password";
import { migrate } from "../../registry/db/migrate";
import type { PgliteSql } from "../../registry/db/pglite";
import { openTestPglite } from "../support/database";
import { RobotStore, type NewRobot } from "../../registry/robots/store";

/** Robot logins against a real (embedded) database: expiry cannot be waited for through the API. */
let sql: PgliteSql;
let robots: RobotStore;
let projectId: number;
const SECRET = "Robot-Secret-123";

const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString("base64")}`;

async function createRobot(name: string, change: Partial<NewRobot> = {}): Promise<number> {
  const created = await sql.transaction((tx) =>
    robots.create(
      {
        name,
        description: "",
        level: "project",
        projectId,
        duration: 30,
        disabled: false,
        creatorType: "local",
        creatorRef: 1,
        secretHash: SECRET_HASH,
        permissions: [{ kind: "project", projectId, access: [{ resource: "repository", action: "pull" }] }],
        ...change,
      },
      tx,
    ),
  );
  return created!.id;
}

let SECRET_HASH: string;
beforeAll(async () => {
  sql = await openTestPglite();
  await migrate(sql);
  robots = new RobotStore(sql);
  SECRET_HASH = await hashPassword(SECRET);
  [{ id: projectId }] = await sql.query<{ id: number }>("INSERT INTO projects (name, metadata) VALUES ('team', '{}') RETURNING id");
});
afterAll(() => sql.close());

describe("robot login", () => {
  it("yields a robot principal holding exactly its grants", async () => {
    const id = await createRobot("team+ok");
    const principal = await new Authenticator(sql, robots).authenticate(basic("robot$team+ok", SECRET));
    expect(principal).toMatchObject({ kind: "robot", id, name: "robot$team+ok" });
    if (principal.kind !== "robot") throw new Error("not a robot");
    expect([...principal.scopes.projects.get(projectId)!]).toEqual(["repository:pull"]);
    expect(principal.scopes.system.size).toBe(0);
  });

  it("refuses an expired robot even with the right secret, and says why", async () => {
    const id = await createRobot("team+old");
    await sql.query("UPDATE robots SET expires_at = $2 WHERE id = $1", [id, Math.floor(Date.now() / 1000) - 1]);
    const login = new Authenticator(sql, robots).authenticate(basic("robot$team+old", SECRET));
    await expect(login).rejects.toThrow(AccountRefusedError);
    await expect(login).rejects.toThrow("robot account robot$team+old has expired");
  });

  it("never expires with duration -1", async () => {
    await createRobot("team+forever", { duration: -1 });
    const [{ expires_at }] = await sql.query<{ expires_at: number }>("SELECT expires_at::float8 AS expires_at FROM robots WHERE name = 'team+forever'");
    expect(expires_at).toBe(-1);
    await expect(new Authenticator(sql, robots).authenticate(basic("robot$team+forever", SECRET))).resolves.toMatchObject({ kind: "robot" });
  });

  it("refuses a disabled robot, and does not count it as a guess", async () => {
    await createRobot("team+off", { disabled: true });
    const authenticator = new Authenticator(sql, robots);
    for (let i = 0; i < 6; i++) {
      await expect(authenticator.authenticate(basic("robot$team+off", SECRET), "10.0.0.1")).rejects.toThrow("is disabled");
    }
  });

  it("answers a wrong secret and an unknown robot alike", async () => {
    await createRobot("team+known");
    const authenticator = new Authenticator(sql, robots);
    const wrong = authenticator.authenticate(basic("robot$team+known", "Wrong-Secret-1"));
    await expect(wrong).rejects.toThrow(BadCredentialsError);
    await expect(wrong).rejects.not.toThrow(AccountRefusedError);
    await expect(authenticator.authenticate(basic("robot$team+nobody", SECRET))).rejects.toThrow("invalid username or password");
  });
});
