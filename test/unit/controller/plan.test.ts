import { accessChanges } from "../../../controller/plan/access";
import { diff, fieldChanges } from "../../../controller/plan/diff";
import { formatMarkdown, formatText, MARKDOWN_LIMIT } from "../../../controller/plan/format";
import type { Plan } from "../../../controller/plan/plan";
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
  const plan = (changes: Plan["changes"]): Plan => ({ changes, access: [], retention: [], live: live({}) });

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
