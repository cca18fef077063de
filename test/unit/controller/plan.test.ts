import MarkdownIt from "markdown-it";
import { accessChanges } from "../../../controller/plan/access";
import { diff, fieldChanges, type Change } from "../../../controller/plan/diff";
import { formatJson, formatMarkdown, formatText, MARKDOWN_LIMIT } from "../../../controller/plan/format";
import type { Plan } from "../../../controller/plan/plan";
import { ruleDetails } from "../../../controller/plan/rule-changes";
import type { DesiredProject, ImmutableRule, RetentionRule } from "../../../controller/policy/model";
import { sortedRules } from "../../../controller/state/desired";
import { emptyState, type Fields, type LiveObject } from "../../../controller/state/kinds";

const live = (entries: Record<string, Record<string, Fields>>) => {
  const state = emptyState<LiveObject>();
  for (const [kind, objects] of Object.entries(entries)) {
    for (const [key, fields] of Object.entries(objects)) state[kind as keyof typeof state].set(key, { fields, ref: { id: 1 } });
  }
  return state;
};
const desired = (entries: Record<string, Record<string, Fields>>) => {
  const state = emptyState<Fields>();
  for (const [kind, objects] of Object.entries(entries)) for (const [key, fields] of Object.entries(objects)) state[kind as keyof typeof state].set(key, fields);
  return state;
};

describe("diff", () => {
  it("orders creates and updates by kind, registries first, replication last", () => {
    const changes = diff(
      desired({
        replication: { r: { project: "a", registry: "dr" } },
        member: { "a/alice": { role: "guest" } },
        project: { a: { public: false } },
        registry: { dr: { url: "http://dr" } },
        user: { alice: { email: "a@x" } },
      }),
      live({}),
    );
    expect(changes.map((c) => `${c.kind}:${c.key}`)).toEqual(["registry:dr", "user:alice", "project:a", "member:a/alice", "replication:r"]);
  });

  it("deletes only what it is allowed to, in reverse order", () => {
    const changes = diff(desired({}), live({ project: { old: { public: true } }, member: { "old/bob": { role: "guest" } }, user: { carol: { email: "c@x" } } }), [
      { kind: "project", key: "old" },
      { kind: "member", key: "old/bob" },
    ]);
    expect(changes.map((c) => `${c.action} ${c.kind}:${c.key}`)).toEqual(["delete member:old/bob", "delete project:old"]);
  });

  it("compares only the fields the files declare", () => {
    expect(fieldChanges({ public: true }, { public: true, storageLimit: 5 })).toEqual([]);
    expect(fieldChanges({ public: true, storageLimit: 10 }, { public: true, storageLimit: 5 })).toEqual([{ field: "storageLimit", before: 5, after: 10 }]);
  });

  it("plans nothing when live matches desired", () => {
    expect(diff(desired({ project: { a: { public: false, rules: [1, 2] } } }), live({ project: { a: { public: false, rules: [1, 2] } } }))).toEqual([]);
  });
});

describe("accessChanges", () => {
  it("says who gains or loses which actions where", () => {
    const changes = accessChanges(
      desired({ member: { "a/alice": { role: "maintainer" }, "a/bob": { role: "guest" } }, project: { a: { public: true } } }),
      live({ member: { "a/alice": { role: "developer" } }, project: { a: { public: false } } }),
    );
    expect(changes).toEqual([
      { who: "alice", project: "a", gains: ["delete"], loses: [] },
      { who: "bob", project: "a", gains: ["pull"], loses: [] },
      { who: "anyone", project: "a", gains: ["pull"], loses: [] },
    ]);
  });
});

describe("plan formats", () => {
  const plan = (changes: Plan["changes"]): Plan => ({ changes, access: [], retention: [], prevention: [], live: live({}) });

  it("says when there is nothing to do", () => {
    expect(formatText(plan([]))).toBe("No changes: the registry matches the files.\n");
  });

  it("shows field-level before → after and blocked changes", () => {
    const text = formatText(
      plan([
        { kind: "project", key: "a", action: "update", fields: [{ field: "public", before: false, after: true }] },
        { kind: "member", key: "a/zed", action: "create", fields: [{ field: "role", before: undefined, after: "guest" }], blocked: "user zed does not exist" },
      ]),
    );
    expect(text).toBe(
      [
        "Plan: 0 to create, 1 to update, 0 to delete, 1 blocked.",
        "",
        "~ project a",
        "    public: false → true",
        "! member a/zed (blocked: user zed does not exist)",
        '    role: "guest"',
        "",
      ].join("\n"),
    );
  });

  it("says in the header when the files are uncommitted changes on top of HEAD", () => {
    const one = plan([{ kind: "project", key: "a", action: "update", fields: [{ field: "public", before: false, after: true }] }]);
    expect(formatText(one, "0123456789abcdef", true).split("\n")[0]).toBe("From uncommitted changes on top of 0123456789ab (the policy files differ from that commit)");
    expect(formatText(one, "0123456789abcdef", false).split("\n")[0]).toBe("Plan: 0 to create, 1 to update, 0 to delete.");
    expect(formatMarkdown(one, "0123456789abcdef", true).split("\n")[0]).toBe("### Berth plan for `0123456789ab` + uncommitted changes");
    expect(formatMarkdown(one, "0123456789abcdef", false).split("\n")[0]).toBe("### Berth plan for `0123456789ab`");
  });

  it("cuts a huge markdown plan to fit a comment and keeps the summary", () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      kind: "member" as const,
      key: `project-${i}/user-${i}`,
      action: "create" as const,
      fields: [{ field: "role", before: undefined, after: "developer" }],
    }));
    const markdown = formatMarkdown(plan(many), "0123456789abcdef");
    expect(markdown.length).toBeLessThanOrEqual(MARKDOWN_LIMIT + 1);
    expect(markdown).toContain("**Plan: 5000 to create, 0 to update, 0 to delete.**");
    expect(markdown).toContain("The plan was cut to fit a comment");
    expect((markdown.match(/```/g) ?? []).length % 2).toBe(0);
  });
});

describe("rule changes field by field", () => {
  const retentionRule = (template: string, params: Record<string, number>, tags = "**"): RetentionRule => ({ template, params, repositories: "**", tags, untagged: true, disabled: false });
  const immutable = (tags: string, repositories = "**"): ImmutableRule => ({ repositories, tags, disabled: false });
  const project = (fields: Partial<DesiredProject>): DesiredProject => ({ name: "a", public: false, storageLimit: null, immutableTags: null, retention: null, autoScan: null, preventVulnerable: null, cveAllowlist: null, ...fields });

  /** The change diff() makes for project `a` from `live` to the project's rules, with its detail lines. */
  function ruleChange(kind: "immutability" | "retention", declared: DesiredProject, liveFields: Fields | null): Change {
    const desiredFields = kind === "immutability" ? { rules: sortedRules(declared.immutableTags!) } : { schedule: declared.retention!.schedule, rules: sortedRules(declared.retention!.rules) };
    const [change] = diff(desired({ [kind]: { a: desiredFields } }), live(liveFields ? { [kind]: { a: liveFields } } : {}));
    change.detail = ruleDetails(change, { projects: [declared] });
    return change;
  }
  const textOf = (change: Change) => formatText({ changes: [change], access: [], retention: [], prevention: [], live: live({}) }).split("\n").slice(2, -1);

  it("names a changed parameter by its rule's index in the file, although rules compare sorted", () => {
    const rules = [retentionRule("nDaysSinceLastPush", { nDaysSinceLastPush: 30 }), retentionRule("latestPushedK", { latestPushedK: 3 })];
    const before = [retentionRule("nDaysSinceLastPush", { nDaysSinceLastPush: 30 }), retentionRule("latestPushedK", { latestPushedK: 10 })];
    const change = ruleChange("retention", project({ retention: { schedule: "0 0 3 * * *", rules } }), { schedule: "0 0 3 * * *", rules: sortedRules(before) });
    expect(textOf(change)).toEqual(["~ retention a", "    retention.rules[1].params.latestPushedK: 10 → 3"]);
    // json keeps the whole lists
    const json = JSON.parse(formatJson({ changes: [change], access: [], retention: [], prevention: [], live: live({}) })) as { changes: Change[] };
    expect(json.changes[0].fields).toEqual([{ field: "rules", before: sortedRules(before), after: sortedRules(rules) }]);
    expect(json.changes[0].detail).toBeUndefined();
  });

  it("shows a changed tag pattern, and rules that come or go as lines of their own", () => {
    const declared = project({ immutableTags: [immutable("latest"), immutable("v*"), immutable("prod-*", "apps/**")] });
    const change = ruleChange("immutability", declared, { rules: sortedRules([immutable("latest"), immutable("release-*"), immutable("nightly", "tools/**")]) });
    expect(textOf(change)).toEqual([
      "~ immutability a",
      '    immutableTags[1].tags: "release-*" → "v*"',
      '    immutableTags[2]: added {"repositories":"apps/**","tags":"prod-*","disabled":false}',
      '    immutableTags: removed {"repositories":"tools/**","tags":"nightly","disabled":false}',
    ]);
  });

  it("shows a template change and a new schedule field by field, and each rule of a new policy on its own line", () => {
    const declared = project({ retention: { schedule: "", rules: [retentionRule("nDaysSinceLastPull", { nDaysSinceLastPull: 7 })] } });
    const change = ruleChange("retention", declared, { schedule: "0 0 3 * * *", rules: [retentionRule("latestPushedK", { latestPushedK: 10 })] });
    expect(textOf(change)).toEqual([
      "~ retention a",
      '    retention.schedule: "0 0 3 * * *" → ""',
      '    retention.rules[0].template: "latestPushedK" → "nDaysSinceLastPull"',
      "    retention.rules[0].params.nDaysSinceLastPull: (none) → 7",
      "    retention.rules[0].params.latestPushedK: 10 → (none)",
    ]);
    const created = ruleChange("retention", project({ retention: { schedule: "", rules: [retentionRule("always", {}), retentionRule("latestPushedK", { latestPushedK: 5 })] } }), null);
    expect(textOf(created)).toEqual([
      "+ retention a",
      '    retention.schedule: ""',
      '    retention.rules[0]: {"template":"always","params":{},"repositories":"**","tags":"**","untagged":true,"disabled":false}',
      '    retention.rules[1]: {"template":"latestPushedK","params":{"latestPushedK":5},"repositories":"**","tags":"**","untagged":true,"disabled":false}',
    ]);
  });
});

describe("plan markdown, as a CommonMark renderer reads it", () => {
  const md = new MarkdownIt({ html: true });
  const memberCreate = (i: number): Change => ({ kind: "member", key: `project-${i}/user-${i}`, action: "create", fields: [{ field: "role", before: undefined, after: "developer" }] });
  const access = (n: number) => Array.from({ length: n }, (_, i) => ({ who: `user-${i}`, project: `project-${i}`, gains: ["pull", "push"], loses: [] }));
  const retention = (n: number) => [{ project: "dev-team", deletes: Array.from({ length: n }, (_, i) => ({ repository: "dev-team/app", digest: `sha256:${String(i).padStart(64, "0")}`, tags: [`v${i}`] })) }];
  const fullPlan = (changes: number, accessChanges: number, doomed: number): Plan => ({
    changes: Array.from({ length: changes }, (_, i) => memberCreate(i)),
    access: access(accessChanges),
    retention: doomed ? retention(doomed) : [],
    prevention: [],
    live: live({}),
  });

  /** Renders `markdown` and checks what must hold for any plan: headings, folded blocks and fences as written. */
  function rendered(markdown: string) {
    const tokens = md.parse(markdown, {});
    const lines = markdown.split("\n");
    // Every heading line became a heading (none swallowed by an HTML block or a fence).
    expect(tokens.filter((t) => t.type === "heading_open").length).toBe(lines.filter((line) => /^#{3,4} /.test(line)).length);
    // HTML blocks hold the <details> tags and nothing of the markdown around them.
    for (const block of tokens.filter((t) => t.type === "html_block")) expect(block.content).toMatch(/^(<details><summary>\w[\w ]*<\/summary>|<\/details>)\n$/);
    expect(tokens.filter((t) => t.type === "html_block" && t.content.startsWith("<details>")).length).toBe(tokens.filter((t) => t.type === "html_block" && t.content.startsWith("</details>")).length);
    // Each fence is closed by its own closing line (a renderer would close an open one at the end, silently).
    for (const fence of tokens.filter((t) => t.type === "fence")) expect(lines[fence.map![1] - 1]).toBe(fence.markup);
    return { tokens, html: md.render(markdown) };
  }

  it("renders headings as headings after the folded changes, the table as a table, the fences whole", () => {
    const markdown = formatMarkdown(fullPlan(2, 2, 2), "0123456789abcdef");
    const { tokens, html } = rendered(markdown);
    expect(html).toContain("<h3>Berth plan for <code>0123456789ab</code></h3>");
    expect(html).toContain("<p><strong>Plan: 2 to create, 0 to update, 0 to delete.</strong></p>");
    expect(html).toContain("<h4>Effective access changes</h4>");
    expect(html).toContain("<h4>Retention impact</h4>");
    expect(html).toContain("<td>user-1</td>");
    const fences = tokens.filter((t) => t.type === "fence");
    expect(fences.map((f) => f.info)).toEqual(["diff", ""]);
    expect(fences[0].content).toBe('+ member project-0/user-0\n    role: "developer"\n+ member project-1/user-1\n    role: "developer"\n');
    expect(fences[1].content).toContain("dev-team: the new rules would delete 2 artifact(s) now");
  });

  it("fences a value holding backticks with a longer fence", () => {
    const change: Change = { kind: "immutability", key: "a", action: "create", fields: [{ field: "rules", before: undefined, after: [{ tags: "```x" }] }] };
    const { tokens } = rendered(formatMarkdown({ changes: [change], access: [], retention: [], prevention: [], live: live({}) }));
    expect(tokens.filter((t) => t.type === "fence").map((f) => f.markup)).toEqual(["````"]);
  });

  it.each([
    ["inside the folded changes", fullPlan(5000, 0, 0)],
    ["inside the access table", fullPlan(3, 3000, 0)],
    ["inside the retention impact", fullPlan(3, 3, 1000)],
  ])("stays valid when the 60 000-character cut falls %s", (_where, huge) => {
    const markdown = formatMarkdown(huge, "0123456789abcdef");
    expect(markdown.length).toBeLessThanOrEqual(MARKDOWN_LIMIT + 1);
    const { tokens, html } = rendered(markdown);
    expect(html).toContain(`<p><strong>Plan: ${huge.changes.length} to create, 0 to update, 0 to delete.</strong></p>`);
    expect(html.trimEnd().endsWith("<p><em>The plan was cut to fit a comment; run <code>berth-controller plan</code> for all of it.</em></p>")).toBe(true);
    expect(tokens.filter((t) => t.type === "fence").every((f) => !f.content.includes("The plan was cut"))).toBe(true);
  });
});
