/**
 * Groups as project members in members.yaml (issue 19): `group:` (an OIDC group by name) and `ldapGroup:` (an LDAP
 * group by DN) beside `user:`, checked with file:line:col like the rest, keyed in plans as the files write them, and
 * the plan's access preview saying what it knows of each group's members.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import MarkdownIt from "markdown-it";
import { accessChanges, ldapGroupsToExpand, type GroupMembers } from "../../../controller/plan/access";
import { dependenciesOf } from "../../../controller/plan/dependencies";
import { formatMarkdown, formatText } from "../../../controller/plan/format";
import type { Plan } from "../../../controller/plan/plan";
import { dnProblem, normalDn } from "../../../controller/policy/dn";
import { formatProblem, loadPolicy, PolicyError } from "../../../controller/policy/load";
import { memberKey, parseMemberKey } from "../../../controller/policy/model";
import { desiredState } from "../../../controller/state/desired";
import { emptyState, type Fields, type LiveObject } from "../../../controller/state/kinds";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "examples", "policies-with-groups");
const DEVS = "cn=devs,ou=groups,dc=example,dc=org";
const OPS = "cn=ops,ou=groups,dc=example,dc=org";

describe("members.yaml with groups", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-group-policy-"));
    await writeFile(path.join(dir, "projects.yaml"), "projects:\n  - name: dev-team\n");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function problemsOf(members: string[]): Promise<string[]> {
    await writeFile(path.join(dir, "members.yaml"), `${members.join("\n")}\n`);
    try {
      await loadPolicy(dir);
      return [];
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return error.problems.map(formatProblem);
    }
  }

  it("reads the example: LDAP groups by DN and OIDC groups by name beside users, keyed as the files write them", async () => {
    const policy = await loadPolicy(EXAMPLE);
    expect(policy.members).toEqual([
      { project: "dev-team", kind: "ldapGroup", name: DEVS, role: "developer" },
      { project: "dev-team", kind: "group", name: "release-managers", role: "maintainer" },
      { project: "dev-team", kind: "user", name: "admin", role: "projectAdmin" },
      { project: "platform", kind: "ldapGroup", name: DEVS, role: "guest" },
    ]);
    expect([...desiredState(policy).member]).toEqual([
      [`dev-team/ldapGroup:${DEVS}`, { role: "developer" }],
      ["dev-team/group:release-managers", { role: "maintainer" }],
      ["dev-team/admin", { role: "projectAdmin" }],
      [`platform/ldapGroup:${DEVS}`, { role: "guest" }],
    ]);
  });

  it("keys round-trip, a DN's slashes included", () => {
    for (const member of [
      { project: "p", kind: "user" as const, name: "alice" },
      { project: "p", kind: "group" as const, name: "devs:all" },
      { project: "p", kind: "ldapGroup" as const, name: "cn=a/b,dc=x" },
    ]) {
      expect(parseMemberKey(memberKey(member))).toEqual(member);
    }
  });

  it("reports unknown fields of a member at their line", async () => {
    expect(await problemsOf(["members:", "  dev-team:", "    - group: devs", "      role: developer", "      ldap: true"])).toEqual([
      'members.yaml:5:7: members.dev-team.0: unknown field "ldap"',
    ]);
  });

  it("reports two kinds at once, none, empty names, bad DNs and duplicates where they are", async () => {
    expect(
      await problemsOf([
        "members:",
        "  dev-team:",
        "    - user: alice",
        "      group: devs",
        "      role: developer",
        "    - role: guest",
        '    - group: ""',
        "      role: guest",
        '    - group: " devs"',
        "      role: guest",
        "    - ldapGroup: cn=devs,,dc=example",
        "      role: guest",
        '    - ldapGroup: "cn=devs;ou=groups"',
        "      role: guest",
        "    - ldapGroup: devs",
        "      role: guest",
        `    - ldapGroup: ${DEVS}`,
        "      role: guest",
        "    - ldapGroup: CN=Devs,OU=groups,dc=example,dc=org",
        "      role: developer",
        "    - group: devs",
        "      role: guest",
        "    - user: group:devs",
        "      role: guest",
      ]),
    ).toEqual([
      "members.yaml:3:7: members.dev-team.0: user and group are both set: give exactly one of user, group (OIDC) or ldapGroup (a DN)",
      "members.yaml:6:7: members.dev-team.1: give exactly one of user, group (OIDC) or ldapGroup (a DN)",
      "members.yaml:7:14: members.dev-team.2.group: must not be empty",
      'members.yaml:9:14: members.dev-team.3.group: " devs" has spaces around it',
      'members.yaml:11:18: members.dev-team.4.ldapGroup: not a distinguished name: expected an attribute name (cn, ou, dc, …) at character 9',
      'members.yaml:13:18: members.dev-team.5.ldapGroup: not a distinguished name: "cn": ; at character 8 must be escaped (\\;)',
      'members.yaml:15:18: members.dev-team.6.ldapGroup: not a distinguished name: expected "=" after "devs" at character 5',
      `members.yaml:19:18: duplicate member of dev-team "ldapGroup:${normalDn(DEVS)}" (first declared at item 8)`,
      'members.yaml:23:13: members.dev-team.10.user: a username starting with "group:" would read as a group in plans',
    ]);
  });

  it("checks DN syntax as RFC 4514 writes it, spaces around separators allowed", () => {
    for (const good of [DEVS, "CN=Devs, OU=Groups, DC=Example", "cn=a\\,b+uid=x,dc=y", "cn=\\23hash,dc=x", "cn=#0403616263,dc=x", "2.5.4.3=devs,dc=x", "cn=a\\2Cb,dc=x"]) {
      expect({ dn: good, problem: dnProblem(good) }).toEqual({ dn: good, problem: null });
    }
    expect(dnProblem("")).toBe("is empty");
    expect(dnProblem("cn=devs,")).toBe('ends with ","');
    expect(dnProblem("cn=,dc=x")).toBe('"cn" has no value');
    expect(dnProblem("cn=a<b")).toBe('"cn": < at character 5 must be escaped (\\<)');
    expect(dnProblem("cn=a\\zb")).toBe('"cn": "\\" at character 5 escapes nothing that needs it');
    expect(dnProblem("cn=#zz")).toBe('"cn": a value starting with # must be hex pairs (escape it as \\#)');
    expect(dnProblem("cn=a\tb")).toBe("holds a control character");
  });

  it("makes only a user member wait for its user", () => {
    const change = (key: string) => ({ kind: "member" as const, key, action: "create" as const, fields: [] });
    expect(dependenciesOf(change("dev-team/alice"))).toEqual(["project:dev-team", "user:alice"]);
    expect(dependenciesOf(change("dev-team/group:devs"))).toEqual(["project:dev-team"]);
    expect(dependenciesOf(change(`dev-team/ldapGroup:${DEVS}`))).toEqual(["project:dev-team"]);
  });
});

describe("the access preview with groups", () => {
  const live = (members: Record<string, string>) => {
    const state = emptyState<LiveObject>();
    for (const [key, role] of Object.entries(members)) state.member.set(key, { fields: { role }, ref: { id: 1 } });
    return state;
  };
  const desired = (members: Record<string, string>) => {
    const state = emptyState<Fields>();
    for (const [key, role] of Object.entries(members)) state.member.set(key, { role });
    return state;
  };
  const known = (entries: Record<string, GroupMembers>) => new Map(Object.entries(entries).map(([dn, members]) => [normalDn(dn), members]));

  it("says an OIDC group's members are known only at sign-in", () => {
    expect(accessChanges(desired({ "p/group:devs": "developer" }), live({}))).toEqual([
      { who: "OIDC group devs", project: "p", gains: ["pull", "push"], loses: [], note: "members of OIDC group devs are known only when they sign in" },
    ]);
  });

  it("lists an LDAP group's users with what each gains or loses, their own role and other groups counted", () => {
    const changes = accessChanges(
      desired({ [`p/ldapGroup:${DEVS}`]: "developer", "p/alice": "projectAdmin", [`p/ldapGroup:${OPS}`]: "guest" }),
      live({ "p/alice": "projectAdmin", [`p/ldapGroup:${OPS}`]: "maintainer", "p/carol": "guest" }),
      new Set(),
      known({ [DEVS]: { users: ["alice", "bob", "carol", "dave"], complete: true }, [OPS]: { users: ["dave"], complete: true } }),
    );
    expect(changes).toEqual([
      { who: `LDAP group ${DEVS}`, project: "p", gains: ["pull", "push"], loses: [], note: "4 member(s) in the directory" },
      { who: `LDAP group ${OPS}`, project: "p", gains: [], loses: ["push", "delete"], note: "1 member(s) in the directory" },
      // alice is a project admin herself; dave keeps push through devs and loses delete with ops.
      { who: "bob", project: "p", gains: ["pull", "push"], loses: [], via: [`LDAP group ${DEVS}`] },
      { who: "carol", project: "p", gains: ["push"], loses: [], via: [`LDAP group ${DEVS}`] },
      { who: "dave", project: "p", gains: [], loses: ["delete"], via: [`LDAP group ${DEVS}`, `LDAP group ${OPS}`] },
    ]);
  });

  it("says why an LDAP group's members are not listed, and when the list is cut", () => {
    const removing = new Set([`p/ldapGroup:${DEVS}`]);
    expect(accessChanges(desired({}), live({ [`p/ldapGroup:${DEVS}`]: "guest" }), removing, known({ [DEVS]: { unknown: "the registry is not in LDAP mode (BERTH_AUTH_MODE)" } }))).toEqual([
      { who: `LDAP group ${DEVS}`, project: "p", gains: [], loses: ["pull"], note: "its members could not be listed: the registry is not in LDAP mode (BERTH_AUTH_MODE)" },
    ]);
    expect(accessChanges(desired({ [`p/ldapGroup:${DEVS}`]: "guest" }), live({}), new Set(), known({ [DEVS]: { users: ["a", "b"], complete: false } }))[0].note).toBe(
      "2+ member(s) in the directory, only the first 2 listed (BERTH_LDAP_SEARCH_MAX)",
    );
  });

  it("expands the LDAP groups of projects whose members change, each DN once", () => {
    const groups = ldapGroupsToExpand(
      desired({ [`p/ldapGroup:${DEVS}`]: "guest", "q/alice": "guest", [`r/ldapGroup:${OPS}`]: "guest" }),
      live({ [`p/ldapGroup:${DEVS.toUpperCase()}`]: "guest", [`q/ldapGroup:${OPS}`]: "guest" }),
      ["p/alice", "q/alice"],
    );
    expect(groups.map(normalDn)).toEqual([normalDn(DEVS), normalDn(OPS)]);
  });

  it("formats group lines with their notes, in text and as a markdown table", () => {
    const plan: Plan = {
      changes: [{ kind: "member", key: `p/ldapGroup:${DEVS}`, action: "create", fields: [{ field: "role", before: undefined, after: "guest" }] }],
      access: [
        { who: `LDAP group ${DEVS}`, project: "p", gains: ["pull"], loses: [], note: "1 member(s) in the directory" },
        { who: "bob", project: "p", gains: ["pull"], loses: [], via: [`LDAP group ${DEVS}`] },
        { who: "OIDC group a|b", project: "p", gains: ["pull"], loses: [], note: "members of OIDC group a|b are known only when they sign in" },
      ],
      retention: [],
      prevention: [],
      live: emptyState<LiveObject>(),
    };
    expect(formatText(plan)).toContain(
      [
        "Effective access changes:",
        `  LDAP group ${DEVS} gains pull on p (1 member(s) in the directory)`,
        `  bob gains pull on p (via LDAP group ${DEVS})`,
        "  OIDC group a|b gains pull on p (members of OIDC group a|b are known only when they sign in)",
      ].join("\n"),
    );
    const markdown = formatMarkdown(plan);
    expect(markdown).toContain(`+ member p/ldapGroup:${DEVS}`);
    const tokens = new MarkdownIt().parse(markdown, {});
    const cells = tokens.filter((t) => t.type === "inline" && tokens[tokens.indexOf(t) - 1].type === "td_open").map((t) => t.content);
    expect(cells).toEqual([
      `LDAP group ${DEVS}`, "p", "pull", "—", "1 member(s) in the directory",
      "bob", "p", "pull", "—", `via LDAP group ${DEVS}`,
      // The escaped pipe stays in its cell.
      "OIDC group a|b", "p", "pull", "—", "members of OIDC group a|b are known only when they sign in",
    ]);
  });
});
