import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { blockDependents } from "../../../controller/plan/dependencies";
import type { Change } from "../../../controller/plan/diff";
import { blockUnreadableSecrets } from "../../../controller/plan/secrets";
import { formatProblem } from "../../../controller/policy/load";
import type { SecretReference } from "../../../controller/policy/model";
import { resolveSecret, secretWarnings, unreadable } from "../../../controller/policy/secrets";

const SECRET_VALUE = "S3cret-value-never-shown";
let dir: string;
const saved = { ...process.env };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-secrets-"));
  process.env.BERTH_TEST_SET_SECRET = SECRET_VALUE;
  delete process.env.BERTH_TEST_UNSET_SECRET;
});
afterEach(async () => {
  process.env = { ...saved };
  await rm(dir, { recursive: true, force: true });
});

const reference = (kind: SecretReference["kind"], key: string, ref: string, line = 4): SecretReference => ({
  kind,
  key,
  reference: ref,
  field: kind === "user" ? "users.0.passwordFrom" : kind === "robot" ? "robots.0.secretFrom" : "registries.0.credentials.secretFrom",
  file: kind === "registry" ? "projects.yaml" : "members.yaml",
  line,
  col: 5,
});

describe("secret references", () => {
  it("resolve from the environment or a file, and say which variable or file is missing", async () => {
    await writeFile(path.join(dir, "secret"), `${SECRET_VALUE}\n`);
    await writeFile(path.join(dir, "empty"), "\n");
    expect(await resolveSecret("env:BERTH_TEST_SET_SECRET")).toBe(SECRET_VALUE);
    expect(await resolveSecret(`file:${path.join(dir, "secret")}`)).toBe(SECRET_VALUE);
    expect(await unreadable("env:BERTH_TEST_SET_SECRET")).toBeNull();
    expect(await unreadable("env:BERTH_TEST_UNSET_SECRET")).toBe("the environment variable BERTH_TEST_UNSET_SECRET is not set");
    expect(await unreadable(`file:${path.join(dir, "nope")}`)).toBe(`cannot read the file ${path.join(dir, "nope")} (ENOENT)`);
    expect(await unreadable(`file:${path.join(dir, "empty")}`)).toBe(`the file ${path.join(dir, "empty")} is empty`);
  });

  it("are warnings at their place when they cannot be read, and a readable one is not mentioned", async () => {
    const warnings = await secretWarnings({
      secrets: [reference("user", "alice", "env:BERTH_TEST_UNSET_SECRET", 5), reference("robot", "a+ci", "env:BERTH_TEST_SET_SECRET", 9), reference("registry", "dr", `file:${path.join(dir, "nope")}`, 6)],
    });
    expect(warnings.map(formatProblem)).toEqual([
      "members.yaml:5:5: warning: users.0.passwordFrom: the environment variable BERTH_TEST_UNSET_SECRET is not set (creating user alice needs it)",
      `projects.yaml:6:5: warning: registries.0.credentials.secretFrom: cannot read the file ${path.join(dir, "nope")} (ENOENT) (creating registry endpoint dr needs it)`,
    ]);
    expect(warnings.map(formatProblem).join("\n")).not.toContain(SECRET_VALUE);
  });
});

describe("blocking what cannot complete", () => {
  const change = (kind: Change["kind"], key: string, action: Change["action"], desired: Change["desired"] = {}): Change => ({ kind, key, action, fields: [], desired });

  it("blocks only the changes that would read an unreadable secret: creating a user, a robot, a registry endpoint", async () => {
    const secrets = [
      reference("user", "alice", "env:BERTH_TEST_UNSET_SECRET"),
      reference("user", "bob", "env:BERTH_TEST_UNSET_SECRET"),
      reference("user", "carol", "env:BERTH_TEST_SET_SECRET"),
      reference("robot", "a+ci", `file:${path.join(dir, "nope")}`),
      reference("registry", "dr", "env:BERTH_TEST_UNSET_SECRET"),
      reference("registry", "dr2", "env:BERTH_TEST_UNSET_SECRET"),
    ];
    const changes = [
      change("registry", "dr", "create"),
      change("registry", "dr2", "update"), // an update sends no secret
      change("user", "alice", "create"),
      change("user", "bob", "adopt"), // adopting an existing user sets no password
      change("user", "carol", "create"),
      change("robot", "a+ci", "create"),
    ];
    await blockUnreadableSecrets(changes, { secrets });
    expect(changes.map((c) => `${c.kind} ${c.key}: ${c.blocked ?? "ok"}`)).toEqual([
      "registry dr: secretFrom: the environment variable BERTH_TEST_UNSET_SECRET is not set",
      "registry dr2: ok",
      "user alice: passwordFrom: the environment variable BERTH_TEST_UNSET_SECRET is not set",
      "user bob: ok",
      "user carol: ok",
      `robot a+ci: secretFrom: cannot read the file ${path.join(dir, "nope")} (ENOENT)`,
    ]);
  });

  it("blocks what depends on a blocked change, and nothing else", () => {
    const changes = [
      change("registry", "dr", "create"),
      change("user", "alice", "create"),
      change("project", "a", "adopt"),
      change("project", "b", "create"),
      change("member", "b/alice", "create", { role: "guest" }),
      change("member", "b/bob", "create", { role: "guest" }),
      change("robot", "a+ci", "create"),
      change("retention", "b", "update"),
      change("replication", "to-dr", "create", { project: "b", registry: "dr" }),
      change("replication", "from-b", "create", { project: "b", registry: "other" }),
    ];
    changes[0].blocked = "secretFrom: the environment variable DR_SECRET is not set";
    changes[1].blocked = "passwordFrom: the environment variable ALICE_PASSWORD is not set";
    changes[2].blocked = "it exists but the controller did not create it";
    blockDependents(changes);
    expect(changes.slice(3).map((c) => `${c.kind} ${c.key}: ${c.blocked ?? "ok"}`)).toEqual([
      "project b: ok",
      "member b/alice: user alice is blocked",
      "member b/bob: ok",
      "robot a+ci: project a is blocked",
      "retention b: ok",
      "replication to-dr: registry dr is blocked",
      "replication from-b: ok",
    ]);
  });
});
