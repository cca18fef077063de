/**
 * `berth-controller` with groups as project members (issue 19): an OIDC group (`group:`) and an LDAP group
 * (`ldapGroup:` DN) applied to a real Berth through the members API, shown by it as group members, a hand-made change
 * put back (by apply, and by watch on its schedule), a group that left the files removed (prune), the audit naming the
 * commit, and the listing of all memberships (many projects) reading groups too. Against an ldap-mode Berth and a real slapd, the plan lists the
 * users an LDAP group gives access to, and says so when the directory cannot answer.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { prepareEnvironment, spawnBerth, type BerthProcess } from "../support/berth";
import { runCli, spawnCli, type CliResult } from "../support/cli";
import { commitAll, controllerEnv, createPolicyRepo, editFile, headOf } from "../support/policy-repo";
import { RegistryClient } from "../support/registry-client";
import { BASE_DN, GROUPS_DN, groupDn, SEARCH_DN, SEARCH_PASSWORD, slapdAvailable, startSlapd, type Slapd } from "../support/slapd";
import { describeIf } from "../support/tools";
import { waitUntil } from "../support/wait";

const AUTHOR = { name: "Gus Group", email: "gus@example.com" };
const OPS = "cn=ops,ou=groups,dc=example,dc=org";
const JSON_HEADERS = { "Content-Type": "application/json" };

interface ApiMember {
  id: number;
  entity_id: number;
  entity_name: string;
  entity_type: string;
  role_id: number;
}

/** A policy repository holding `projects` and `members`, committed. */
async function policyRepo(prefix: string, projects: string, members: string): Promise<string> {
  const repo = await createPolicyRepo(prefix, AUTHOR);
  await writeFile(path.join(repo, "projects.yaml"), projects);
  await writeFile(path.join(repo, "members.yaml"), members);
  await commitAll(repo, AUTHOR, "Groups as members");
  return repo;
}

describe("berth-controller and group members", () => {
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let server: BerthProcess;
  let admin: RegistryClient;
  let repo: string;
  const controller = (args: string[]): Promise<CliResult> => runCli("berth-controller", [...args, "--repo", repo], controllerEnv(server.url));
  const members = async (project: string) => (await (await admin.fetch(`/api/v2.0/projects/${project}/members?page_size=100`)).json()) as ApiMember[];
  /** A project's group members by name (the controller adds several at once, so their ids come in any order). */
  const groupMembers = async (project: string) =>
    (await members(project))
      .filter((m) => m.entity_type === "g")
      .map((m) => ({ name: m.entity_name, role: m.role_id }))
      .sort((a, b) => a.name.localeCompare(b.name));

  beforeAll(async () => {
    environment = await prepareEnvironment({});
    server = await spawnBerth(environment.env);
    admin = new RegistryClient(server.url);
    repo = await policyRepo(
      "berth-group-policies-",
      "controller:\n  prune: true\nprojects:\n  - name: dev-team\n",
      ["members:", "  dev-team:", "    - group: devs", "      role: developer", `    - ldapGroup: ${OPS}`, "      role: maintainer", ""].join("\n"),
    );
  }, 120_000);
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await environment?.cleanup();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it("plans group members, saying what it cannot know of their members, and applies them through the API", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 2, stderr: "" });
    expect(plan.stdout).toMatch(/^Plan: 3 to create, 0 to update, 0 to delete\.$/m);
    expect(plan.stdout).toContain("+ member dev-team/group:devs\n    role: \"developer\"");
    expect(plan.stdout).toContain(`+ member dev-team/ldapGroup:${OPS}\n    role: "maintainer"`);
    expect(plan.stdout).toContain("  OIDC group devs gains pull, push on dev-team (members of OIDC group devs are known only when they sign in)");
    expect(plan.stdout).toContain(`  LDAP group ${OPS} gains pull, push, delete on dev-team (its members could not be listed: the registry is not in LDAP mode (BERTH_AUTH_MODE))`);

    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 3, failed 0, skipped 0\./);
    expect(await groupMembers("dev-team")).toEqual([
      { name: OPS, role: 4 },
      { name: "devs", role: 2 },
    ]);
    // The registry made the user groups on first use: an OIDC group by name, an LDAP group by DN.
    const groups = (await (await admin.fetch("/api/v2.0/usergroups")).json()) as { group_name: string; group_type: number; ldap_group_dn: string }[];
    expect(groups.map(({ group_name, group_type, ldap_group_dn }) => ({ group_name, group_type, ldap_group_dn }))).toEqual([
      { group_name: OPS, group_type: 1, ldap_group_dn: OPS },
      { group_name: "devs", group_type: 3, ldap_group_dn: "" },
    ]);
    expect((await controller(["plan", "--detailed-exitcode"])).code).toBe(0);

    // The audit log names the commit behind each group membership, as for users.
    const sha = await headOf(repo);
    const audit = (await (await admin.fetch(`/api/v2.0/audit-logs?q=${encodeURIComponent("resource=~dev-team/group:")}&page_size=100`)).json()) as { operation: string; change_ref: string | null }[];
    expect(audit.map((r) => r.operation)).toEqual(["create", "create"]);
    for (const record of audit) expect(record.change_ref).toMatch(new RegExp(`^commit ${sha} by Gus Group <gus@example\\.com> \\(run [0-9a-f-]{36}\\)$`));
  });

  it("puts back a group member removed by hand and a group's role changed by hand", async () => {
    const listed = (await members("dev-team")).filter((m) => m.entity_type === "g");
    const [devs, ops] = ["devs", OPS].map((name) => listed.find((m) => m.entity_name === name)!);
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${devs.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin.fetch(`/api/v2.0/projects/dev-team/members/${ops.id}`, { method: "PUT", headers: JSON_HEADERS, body: '{"role_id":3}' })).status).toBe(200);
    const plan = await controller(["plan"]);
    expect(plan.stdout).toMatch(/^Plan: 1 to create, 1 to update, 0 to delete\.$/m);
    expect(plan.stdout).toContain(`~ member dev-team/ldapGroup:${OPS}\n    role: "guest" → "maintainer"`);
    expect((await controller(["apply"])).code).toBe(0);
    expect(await groupMembers("dev-team")).toEqual([
      { name: OPS, role: 4 },
      { name: "devs", role: 2 },
    ]);
  });

  it("removes a group that left the files, leaving the user group itself", async () => {
    await editFile(repo, "members.yaml", (text) => text.replace("    - group: devs\n      role: developer\n", ""));
    await commitAll(repo, AUTHOR, "devs no longer develop here");
    const plan = await controller(["plan"]);
    expect(plan.stdout).toMatch(/^Plan: 0 to create, 0 to update, 1 to delete\.$/m);
    expect(plan.stdout).toContain("- member dev-team/group:devs");
    expect(plan.stdout).toContain("  OIDC group devs loses pull, push on dev-team (members of OIDC group devs are known only when they sign in)");
    expect((await controller(["apply"])).code).toBe(0);
    expect(await groupMembers("dev-team")).toEqual([{ name: OPS, role: 4 }]);
    const groups = (await (await admin.fetch("/api/v2.0/usergroups?group_type=3")).json()) as { group_name: string }[];
    expect(groups.map((g) => g.group_name)).toEqual(["devs"]);
  });

  it("reads group members from the listing of all memberships when many projects declare members", async () => {
    const teams = Array.from({ length: 21 }, (_, i) => `team-${String(i + 1).padStart(2, "0")}`);
    await writeFile(path.join(repo, "projects.yaml"), `controller:\n  prune: true\nprojects:\n${["dev-team", ...teams].map((name) => `  - name: ${name}\n`).join("")}`);
    await editFile(repo, "members.yaml", (text) => `${text}${teams.map((team) => `  ${team}:\n    - group: devs\n      role: guest\n    - ldapGroup: ${OPS}\n      role: developer\n`).join("")}`);
    await commitAll(repo, AUTHOR, "Many teams");
    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 63, failed 0, skipped 0\./);
    expect(await groupMembers("team-21")).toEqual([
      { name: OPS, role: 2 },
      { name: "devs", role: 3 },
    ]);
    const again = await controller(["plan", "--detailed-exitcode"]);
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: "No changes: the registry matches the files.\n" });
  }, 120_000);

  it("takes an LDAP group the registry has under another spelling of its DN for the declared one", async () => {
    const made = await admin.fetch("/api/v2.0/usergroups", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ group_type: 1, group_name: "qa", ldap_group_dn: "CN=QA,OU=Groups,DC=example,DC=org" }) });
    expect(made.status).toBe(201);
    await editFile(repo, "members.yaml", (text) => text.replace("  dev-team:\n", "  dev-team:\n    - ldapGroup: cn=qa,ou=groups,dc=example,dc=org\n      role: guest\n"));
    await commitAll(repo, AUTHOR, "QA may pull");
    const apply = await controller(["apply"]);
    expect(apply.stdout).toMatch(/Applied 1, failed 0, skipped 0\./);
    expect((await groupMembers("dev-team")).find((m) => m.name === "qa")).toEqual({ name: "qa", role: 3 });
    const again = await controller(["plan", "--detailed-exitcode"]);
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: "No changes: the registry matches the files.\n" });
  });

  it("watch puts back a group membership removed by hand on its schedule, naming the commit", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "berth-group-watch-"));
    const watcher = spawnCli("berth-controller", ["watch"], {
      ...controllerEnv(server.url),
      BERTH_CONTROLLER_REPO: repo,
      BERTH_CONTROLLER_BRANCH: "main",
      BERTH_CONTROLLER_SCHEDULE: "*/2 * * * * *",
      BERTH_CONTROLLER_POLL_SECONDS: "0.5",
      BERTH_CONTROLLER_ADDR: "127.0.0.1:0",
      BERTH_CONTROLLER_WORKDIR: path.join(work, "clone"),
    }).child;
    let output = "";
    watcher.stdout!.on("data", (chunk) => (output += chunk));
    watcher.stderr!.on("data", (chunk) => (output += chunk));
    try {
      await waitUntil(() => /health on (http:\/\/[\d.:]+)/.test(output), "the controller to start");
      const health = /health on (http:\/\/[\d.:]+)/.exec(output)![1];
      const head = await headOf(repo);
      await waitUntil(async () => ((await (await fetch(`${health}/readyz`)).json()) as { appliedRevision: string | null }).appliedRevision === head, "the head to be applied");
      const ops = (await members("team-07")).find((m) => m.entity_type === "g" && m.entity_name === OPS)!;
      expect((await admin.fetch(`/api/v2.0/projects/team-07/members/${ops.id}`, { method: "DELETE" })).status).toBe(200);
      await waitUntil(async () => (await groupMembers("team-07")).some((m) => m.name === OPS), "the scheduled run to put the LDAP group back");
      expect(await groupMembers("team-07")).toEqual([
        { name: OPS, role: 2 },
        { name: "devs", role: 3 },
      ]);
      const audit = (await (await admin.fetch(`/api/v2.0/audit-logs?q=${encodeURIComponent("resource=~team-07/group:")}&page_size=100`)).json()) as { operation: string; change_ref: string | null }[];
      expect(audit.filter((r) => r.operation === "create" && r.change_ref?.startsWith(`commit ${head} by Gus Group <gus@example.com>`) && r.change_ref.includes("schedule"))).toHaveLength(1);
    } finally {
      watcher.kill("SIGKILL");
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "berth-controller's plan against an ldap-mode Berth", () => {
  let slapd: Slapd;
  let slapdStopped = false;
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let server: BerthProcess;
  let repo: string;
  const DEVS = groupDn("devs");
  const NOBODY = `cn=nobody,${GROUPS_DN}`;
  const controller = (args: string[]): Promise<CliResult> => runCli("berth-controller", [...args, "--repo", repo], controllerEnv(server.url));

  beforeAll(async () => {
    slapd = await startSlapd();
    environment = await prepareEnvironment({});
    const searchPassword = path.join(environment.dataDir, "ldap-search-password");
    await writeFile(searchPassword, SEARCH_PASSWORD);
    server = await spawnBerth({
      ...environment.env,
      BERTH_AUTH_MODE: "ldap",
      BERTH_LDAP_URL: slapd.url,
      BERTH_LDAP_CA_FILE: slapd.caFile,
      BERTH_LDAP_BASE_DN: BASE_DN,
      BERTH_LDAP_SEARCH_DN: SEARCH_DN,
      BERTH_LDAP_SEARCH_PASSWORD_FILE: searchPassword,
      BERTH_LDAP_FILTER: "(objectClass=inetOrgPerson)",
      BERTH_LDAP_GROUP_BASE_DN: GROUPS_DN,
      BERTH_LDAP_GROUP_ATTRIBUTE: "memberOf",
    });
    repo = await policyRepo(
      "berth-ldap-group-policies-",
      "projects:\n  - name: dev-team\n",
      ["members:", "  dev-team:", `    - ldapGroup: ${DEVS}`, "      role: developer", `    - ldapGroup: ${NOBODY}`, "      role: guest", ""].join("\n"),
    );
  }, 120_000);
  afterAll(async () => {
    await server?.kill("SIGKILL");
    if (!slapdStopped) await slapd?.stop();
    await environment?.cleanup();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it("lists the users of an LDAP group who gain access, and says when a group is not in the directory", async () => {
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 2, stderr: "" });
    expect(plan.stdout.slice(plan.stdout.indexOf("Effective access changes:"))).toBe(
      [
        "Effective access changes:",
        `  LDAP group ${DEVS} gains pull, push on dev-team (2 member(s) in the directory)`,
        `  LDAP group ${NOBODY} gains pull on dev-team (its members could not be listed: the registry's directory has no such group)`,
        `  alice gains pull, push on dev-team (via LDAP group ${DEVS})`,
        `  bob gains pull, push on dev-team (via LDAP group ${DEVS})`,
        "",
      ].join("\n"),
    );
    const markdown = await controller(["plan", "--format", "markdown"]);
    expect(markdown.stdout).toContain(`| bob | dev-team | pull, push | — | via LDAP group ${DEVS} |`);
  });

  it("says when the directory does not answer, and still plans", async () => {
    await slapd.stop();
    slapdStopped = true;
    const plan = await controller(["plan", "--detailed-exitcode"]);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 2, stderr: "" });
    expect(plan.stdout).toMatch(new RegExp(`^  LDAP group ${DEVS} gains pull, push on dev-team \\(its members could not be listed: the registry's directory did not answer \\(LDAP .+ failed: .+\\)\\)$`, "m"));
    expect(plan.stdout).not.toContain("alice");
  });
});
