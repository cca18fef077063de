import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatProblem, loadPolicy, PolicyError } from "../../../controller/policy/load";
import { parseSize } from "../../../controller/policy/model";
import { desiredState } from "../../../controller/state/desired";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "examples", "policies");

describe("loadPolicy", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-policy-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The problems of a repo with these files, as file:line:col: message. */
  async function problemsOf(files: Record<string, string>): Promise<string[]> {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    try {
      await loadPolicy(dir);
      return [];
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return error.problems.map(formatProblem);
    }
  }

  it("reads the example repository into the desired state", async () => {
    const policy = await loadPolicy(EXAMPLE);
    expect(policy.projects.map((p) => p.name)).toEqual(["dev-team", "platform"]);
    expect(policy.projects[0]).toMatchObject({ public: false, storageLimit: 10 * 1024 ** 3, immutableTags: [{ repositories: "**", tags: "release-*", disabled: false }] });
    expect(policy.projects[0].retention).toEqual({
      schedule: "0 0 3 * * *",
      rules: [{ template: "latestPushedK", params: { latestPushedK: 10 }, repositories: "**", tags: "**", untagged: true, disabled: false }],
    });
    expect(policy.projects[1]).toMatchObject({ public: true, storageLimit: null, immutableTags: null, retention: null });
    expect(policy.replications).toEqual([
      expect.objectContaining({ name: "dev-team-to-dr", project: "dev-team", direction: "push", registry: "dr-site", repositories: "**", tags: "v*", trigger: { type: "event_based", cron: "" } }),
    ]);
    expect(policy.members).toContainEqual({ project: "dev-team", kind: "user", name: "admin", role: "projectAdmin" });
    expect(policy.users).toEqual([{ username: "alice", email: "alice@example.com", realname: "", admin: false, passwordFrom: "env:ALICE_INITIAL_PASSWORD" }]);
    expect(policy.robots).toEqual([{ name: "ci", project: "dev-team", description: "", access: ["pull", "push"], duration: 90, secretFrom: null }]);
    expect(policy.settings).toEqual({ prune: false, drift: "correct", adopt: false, allowDeleteAll: false });
  });

  it("reads global labels and each project's own, keyed as the plan names them", async () => {
    for (const [name, text] of Object.entries({
      "projects.yaml": ["labels:", "  - name: release", '    color: "#00AA00"', "projects:", "  - name: dev-team", "    labels:", "      - name: qa-passed", "        description: signed off", ""].join("\n"),
    })) await writeFile(path.join(dir, name), text);
    const policy = await loadPolicy(dir);
    expect(policy.labels).toEqual([
      { name: "release", project: null, description: "", color: "#00AA00" },
      { name: "qa-passed", project: "dev-team", description: "signed off", color: "" },
    ]);
    expect([...desiredState(policy).label]).toEqual([
      ["release", { description: "", color: "#00AA00" }],
      ["dev-team/qa-passed", { description: "signed off", color: "" }],
    ]);
  });

  it("reports label names twice in a scope, with commas or slashes, and bad colors where they are", async () => {
    const problems = await problemsOf({
      "projects.yaml": [
        "labels:",
        "  - name: release",
        "  - name: release",
        "projects:",
        "  - name: dev-team",
        "    labels:",
        "      - name: release",
        "      - name: a,b",
        "        color: green",
        "",
      ].join("\n"),
    });
    expect(problems).toEqual([
      expect.stringMatching(/^projects\.yaml:8:15: projects\.0\.labels\.1\.name: "a,b" does not match/),
      'projects.yaml:9:16: projects.0.labels.1.color: "green" does not match ^#[0-9A-Fa-f]{6}$',
    ]);
    expect(await problemsOf({ "projects.yaml": ["labels:", "  - name: release", "  - name: release", ""].join("\n") })).toEqual([
      'projects.yaml:3:11: duplicate global label "release" (first declared at item 1)',
    ]);
  });

  it("reports schema errors in each file with line and column", async () => {
    const problems = await problemsOf({
      "projects.yaml": ["projects:", "  - name: Bad_Name", "    public: maybe", "    colour: blue", ""].join("\n"),
      "members.yaml": ["members:", "  dev:", "    - user: alice", "      role: owner", ""].join("\n"),
    });
    expect(problems).toEqual([
      'projects.yaml:2:11: projects.0.name: "Bad_Name" does not match ^[a-z0-9]+(?:[._-][a-z0-9]+)*$',
      "projects.yaml:3:13: projects.0.public: must be boolean",
      'projects.yaml:4:5: projects.0: unknown field "colour"',
      'members.yaml:4:13: members.dev.0.role: must be one of "projectAdmin", "maintainer", "developer", "guest", "limitedGuest"',
    ]);
  });

  it("reads the configuration keys a team keeps under review, and says where a bad one is", async () => {
    await writeFile(path.join(dir, "projects.yaml"), "configuration:\n  project_creation_restriction: adminonly\n  storage_per_project: 10GiB\n  robot_token_duration: 90\n");
    expect((await loadPolicy(dir)).configuration).toEqual({ project_creation_restriction: "adminonly", storage_per_project: 10 * 1024 ** 3, robot_token_duration: 90 });
    const problems = await problemsOf({
      "projects.yaml": ["configuration:", "  read_only: true", "  robot_token_duration: 0", "  audit_log_forward_endpoint: http://logs", "  storage_per_project: 0B", ""].join("\n"),
    });
    expect(problems).toEqual([
      'projects.yaml:2:3: configuration: unknown field "read_only"',
      "projects.yaml:3:25: configuration.robot_token_duration: must be >= 1",
      expect.stringMatching(/^projects\.yaml:4:31: configuration\.audit_log_forward_endpoint: "http:\/\/logs" does not match/),
    ]);
    expect(await problemsOf({ "projects.yaml": "configuration:\n  storage_per_project: 0B\n" })).toEqual([
      'projects.yaml:2:24: storage_per_project "0B" must be -1/unlimited or a size up to 1024TiB',
    ]);
  });

  it("reports YAML syntax errors with their position and nothing else", async () => {
    const problems = await problemsOf({ "projects.yaml": "projects:\n  - name: a\n    public: [true\n" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^projects\.yaml:\d+:\d+: /);
  });

  /**
   * The bench's repository (bench/controller.sh): `projects` projects, each with `members` members of `users` users.
   * In `members.yaml`, member j of project i (its `user:`) is on line 4 + 3 × users + i × (1 + 2 × members) + 2 × j.
   */
  function bigRepository(projects: number, members: number, users: number): { projects: string[]; members: string[] } {
    const roles = ["developer", "guest", "maintainer", "projectAdmin", "limitedGuest"];
    const projectLines = ["projects:"];
    const memberLines = ["users:"];
    for (let u = 0; u < users; u++) memberLines.push(`  - username: user${u}`, `    email: user${u}@example.com`, "    passwordFrom: env:BENCH_USER_PASSWORD");
    memberLines.push("members:");
    for (let i = 0; i < projects; i++) {
      projectLines.push(`  - name: team-${i}`, `    public: ${i % 2 === 0}`);
      memberLines.push(`  team-${i}:`);
      for (let j = 0; j < members; j++) memberLines.push(`    - user: user${(i * members + j) % users}`, `      role: ${roles[(i + j) % roles.length]}`);
    }
    return { projects: [...projectLines, ""], members: [...memberLines, ""] };
  }
  const memberLine = (i: number, j: number, members = 10, users = 100) => 4 + 3 * users + i * (1 + 2 * members) + 2 * j;

  it("reads a big repository, and says exactly where a bad value, a duplicate or a syntax error is in it", async () => {
    const big = bigRepository(1000, 10, 100);
    const write = (files: { projects: string[]; members: string[] }) => problemsOf({ "projects.yaml": files.projects.join("\n"), "members.yaml": files.members.join("\n") });
    expect(await write(big)).toEqual([]);
    const policy = await loadPolicy(dir);
    expect(policy.members).toHaveLength(10_000);
    expect(policy.members[5007]).toEqual({ project: "team-500", kind: "user", name: "user7", role: "maintainer" });
    // Where a secret is referred to is still known (worked out when asked).
    expect(policy.secrets[42]).toMatchObject({ field: "users.42.passwordFrom", file: "members.yaml", line: 2 + 3 * 42 + 2, col: 5 });

    // A role no schema knows, on member 7 of project 500 (line 10 819).
    const badRole = bigRepository(1000, 10, 100);
    const roleLine = memberLine(500, 7) + 1;
    expect(badRole.members[roleLine - 1]).toBe("      role: maintainer");
    badRole.members[roleLine - 1] = "      role: owner";
    expect(await write(badRole)).toEqual([
      `members.yaml:${roleLine}:13: members.team-500.7.role: must be one of "projectAdmin", "maintainer", "developer", "guest", "limitedGuest"`,
    ]);

    // Checks a schema cannot make: a member twice, a project unknown (near the end of the file).
    const duplicate = bigRepository(1000, 10, 100);
    duplicate.members[memberLine(999, 9) - 1] = "    - user: user90";
    duplicate.members[memberLine(998, 0) - 2] = "  team-1000:";
    expect(await write(duplicate)).toEqual([
      `members.yaml:${memberLine(998, 0) - 1}:3: unknown project "team-1000" (declare it in projects.yaml)`,
      `members.yaml:${memberLine(999, 9)}:13: duplicate member of team-999 "user90" (first declared at item 1)`,
    ]);
    expect(duplicate.members[memberLine(999, 0) - 1]).toBe("    - user: user90");

    // A bad project in the other file, and a key twice in one member of members.yaml (a YAML error: yaml says where).
    const broken = bigRepository(1000, 10, 100);
    broken.projects[2 * 700 + 2] = "    public: maybe";
    broken.members[memberLine(250, 3)] = "      user: user3";
    expect(await write(broken)).toEqual([
      `projects.yaml:${2 * 700 + 3}:13: projects.700.public: must be boolean`,
      `members.yaml:${memberLine(250, 3) + 1}:7: Map keys must be unique`,
    ]);
  });

  it("checks what a schema cannot: references, duplicates, cron, patterns, sizes", async () => {
    const problems = await problemsOf({
      "projects.yaml": [
        "registries:",
        "  - name: dr",
        "    url: http://dr:5000",
        "projects:",
        "  - name: a",
        "    storageLimit: 2000TiB",
        "    retention:",
        '      schedule: "* * * * *"',
        "      rules:",
        "        - template: latestPushedK",
        '          repositories: "**"',
        '          tags: "{a, b}"',
        "    replication:",
        "      - name: r",
        "        direction: pull",
        "        registry: elsewhere",
        "        trigger: { type: event_based }",
        "  - name: a",
        "",
      ].join("\n"),
      "members.yaml": ["members:", "  ghost:", "    - user: bob", "      role: guest", "    - user: bob", "      role: developer", ""].join("\n"),
    });
    expect(problems).toEqual([
      'projects.yaml:6:19: storageLimit "2000TiB" must be -1/unlimited or a size up to 1024TiB',
      "projects.yaml:8:17: retention schedule: cron must have 6 fields (second minute hour day-of-month month day-of-week), got 5",
      "projects.yaml:10:11: template latestPushedK needs params.latestPushedK",
      'projects.yaml:12:17: "{a, b}": no spaces inside {a,b} alternatives (they would never match)',
      'projects.yaml:16:19: unknown registry "elsewhere" (declare it under registries:)',
      "projects.yaml:17:18: event_based triggers need direction: push (events are this registry's)",
      'projects.yaml:18:11: duplicate project "a" (first declared at item 1)',
      'members.yaml:2:3: unknown project "ghost" (declare it in projects.yaml)',
      'members.yaml:5:13: duplicate member of ghost "bob" (first declared at item 1)',
    ]);
  });

  it("reads scanning settings: absent is not managed, false and off turn prevention off, dates are UTC seconds", async () => {
    await writeFile(
      path.join(dir, "projects.yaml"),
      [
        "projects:",
        "  - name: a",
        "    autoScan: true",
        "    preventVulnerable:",
        "      severity: high",
        "    cveAllowlist:",
        "      expiresAt: 2027-06-30",
        "      items: [CVE-2024-1234, CVE-2023-9999]",
        "  - name: b",
        "    preventVulnerable: false",
        "    cveAllowlist:",
        "      expiresAt: 2027-06-30T12:30:00.750+02:00",
        "      items: []",
        "  - name: c",
        "    preventVulnerable: off",
        "  - name: d",
        "",
      ].join("\n"),
    );
    const [a, b, c, d] = (await loadPolicy(dir)).projects;
    expect(a).toMatchObject({ autoScan: true, preventVulnerable: "high", cveAllowlist: { items: ["CVE-2023-9999", "CVE-2024-1234"], expiresAt: "2027-06-30T00:00:00Z" } });
    expect(b).toMatchObject({ autoScan: null, preventVulnerable: "off", cveAllowlist: { items: [], expiresAt: "2027-06-30T10:30:00Z" } });
    expect(c).toMatchObject({ preventVulnerable: "off", cveAllowlist: null });
    expect(d).toMatchObject({ autoScan: null, preventVulnerable: null, cveAllowlist: null });
  });

  it("reports bad scanning settings with one message at their line", async () => {
    const problems = await problemsOf({
      "projects.yaml": [
        "projects:",
        "  - name: a",
        "    autoScan: yes",
        "    preventVulnerable:",
        "      severity: extreme",
        "  - name: b",
        "    preventVulnerable: true",
        "    cveAllowlist:",
        "      expiresAt: next june",
        "      items: [CVE-2024-1, CVE-2024-1, \"two words\"]",
        "  - name: c",
        "    cveAllowlist: { expiresAt: 2027-02-30 }",
        "",
      ].join("\n"),
    });
    expect(problems).toEqual([
      "projects.yaml:3:15: projects.0.autoScan: must be boolean",
      "projects.yaml:5:7: projects.0.preventVulnerable: must be false, off, or {severity: none|low|medium|high|critical}",
      "projects.yaml:7:24: projects.1.preventVulnerable: must be false, off, or {severity: none|low|medium|high|critical}",
      "projects.yaml:9:18: projects.1.cveAllowlist.expiresAt: must be a date (2027-06-30) or an RFC 3339 time (2027-06-30T12:00:00Z)",
      "projects.yaml:10:14: projects.1.cveAllowlist.items: must NOT have duplicate items (items ## 1 and 0 are identical)",
      'projects.yaml:10:39: projects.1.cveAllowlist.items.2: "two words" does not match ^\\S+$',
      "projects.yaml:12:19: projects.2.cveAllowlist: missing required field \"items\"",
      "projects.yaml:12:32: projects.2.cveAllowlist.expiresAt: must be a date (2027-06-30) or an RFC 3339 time (2027-06-30T12:00:00Z)",
    ]);
  });

  it("refuses literal secrets: only env: and file: references", async () => {
    const problems = await problemsOf({ "members.yaml": "users:\n  - username: bob\n    email: bob@example.com\n    passwordFrom: hunter2\n" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe("members.yaml:4:19: users.0.passwordFrom: must be a reference, env:NAME or file:PATH (never the secret itself)");
  });

  it("treats one missing file as empty", async () => {
    expect(await problemsOf({ "members.yaml": "users: []\n" })).toEqual([]);
    await rm(path.join(dir, "members.yaml"));
    expect(await problemsOf({ "projects.yaml": "projects: []\n" })).toEqual([]);
  });

  it("refuses a directory that does not exist, is a file, or holds neither file, naming it", async () => {
    expect(await problemsOf({})).toEqual([`${dir}: neither projects.yaml nor members.yaml is there: not a policy repository`]);
    const missing = path.join(dir, "nonexistent");
    await expect(loadPolicy(missing)).rejects.toThrow(new PolicyError([{ file: missing, line: 0, col: 0, message: "no such directory" }]));
    await writeFile(path.join(dir, "projects.yaml"), "projects: []\n");
    await expect(loadPolicy(path.join(dir, "projects.yaml"))).rejects.toThrow(`${path.join(dir, "projects.yaml")}: not a directory`);
  });

  it("records where each secret reference is and what needs it", async () => {
    await writeFile(
      path.join(dir, "projects.yaml"),
      ["registries:", "  - name: dr", "    url: http://dr:5000", "    credentials:", "      accessKey: pusher", "      secretFrom: file:/run/secrets/dr", "projects:", "  - name: a", ""].join("\n"),
    );
    await writeFile(
      path.join(dir, "members.yaml"),
      ["users:", "  - username: bob", "    email: bob@example.com", "    passwordFrom: env:BOB_PASSWORD", "robots:", "  - name: ci", "    project: a", "    access: [pull]", "    secretFrom: env:CI_SECRET", ""].join("\n"),
    );
    const policy = await loadPolicy(dir);
    expect(policy.secrets).toEqual([
      { kind: "registry", key: "dr", reference: "file:/run/secrets/dr", field: "registries.0.credentials.secretFrom", file: "projects.yaml", line: 6, col: 7 },
      { kind: "user", key: "bob", reference: "env:BOB_PASSWORD", field: "users.0.passwordFrom", file: "members.yaml", line: 4, col: 5 },
      { kind: "robot", key: "a+ci", reference: "env:CI_SECRET", field: "robots.0.secretFrom", file: "members.yaml", line: 9, col: 5 },
    ]);
  });
});

describe("parseSize", () => {
  it.each([
    ["10GiB", 10 * 1024 ** 3],
    ["500MB", 500e6],
    ["1.5KiB", 1536],
    ["unlimited", -1],
    [-1, -1],
    [1024, 1024],
    ["10 gigs", null],
    [1.5, null],
  ] as const)("%j → %j", (input, expected) => expect(parseSize(input)).toBe(expected));
});
