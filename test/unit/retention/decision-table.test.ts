import { parseDecisionTable } from "../../../registry/retention/job";

describe("parseDecisionTable", () => {
  it("reads a task log's table back into rows, reasons with ' | ' in them whole", () => {
    const log = [
      "Digest | Tag | PushedTime | PulledTime | Retention | Reason",
      "sha256:aa | v1,latest | 2026-01-01T00:00:00.000Z | - | RETAIN | retained by rule 1 (tags matching a | b)",
      "sha256:bb | <none> | 2026-01-02T00:00:00.000Z | 2026-01-03T00:00:00.000Z | DEL (dry run) | not retained by any rule",
      "not a row",
      "",
    ].join("\n");
    expect(parseDecisionTable(log)).toEqual([
      { digest: "sha256:aa", tags: ["v1", "latest"], pushed_time: "2026-01-01T00:00:00.000Z", pulled_time: null, retention: "RETAIN", reason: "retained by rule 1 (tags matching a | b)" },
      { digest: "sha256:bb", tags: [], pushed_time: "2026-01-02T00:00:00.000Z", pulled_time: "2026-01-03T00:00:00.000Z", retention: "DEL (dry run)", reason: "not retained by any rule" },
    ]);
  });
});
