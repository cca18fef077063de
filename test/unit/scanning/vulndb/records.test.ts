import { checkRecord, indexedName } from "../../../../registry/scanning/vulndb/records";
import { osvRecord } from "../../../support/osv-records";

describe("checkRecord", () => {
  it("accepts a record and lists the packages it affects, PyPI names normalised and each once", () => {
    const record = osvRecord("GHSA-1", "PyPI", "PyYAML", "6.0");
    record.affected!.push({ package: { ecosystem: "PyPI", name: "pyyaml" } }, { ranges: [{ type: "GIT", repo: "https://x", events: [{ introduced: "0" }] }] });
    const checked = checkRecord(record);
    expect(checked.ok).toBe(true);
    if (checked.ok) {
      expect(checked.keys).toEqual([{ ecosystem: "PyPI", name: "pyyaml" }]);
      expect(checked.modified.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    }
  });

  it("keeps other ecosystems' names as given", () => {
    expect(indexedName("npm", "Foo_Bar")).toBe("Foo_Bar");
    expect(indexedName("PyPI", "Zope.Interface")).toBe("zope-interface");
  });

  it.each([
    ["a string", "x", null, "not a JSON object"],
    ["an array", [], null, "not a JSON object"],
    ["no id", { modified: "2026-01-01T00:00:00Z" }, null, "id is missing"],
    ["no modified", { id: "A" }, "A", "modified is missing"],
    ["a bad time", { id: "A", modified: "yesterday" }, "A", "modified is not an RFC 3339 time"],
    ["affected not an array", { id: "A", modified: "2026-01-01T00:00:00Z", affected: {} }, "A", "affected is not an array"],
    ["a package without a name", { id: "A", modified: "2026-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm" } }] }, "A", "lacks a string ecosystem or name"],
  ])("refuses %s and says why", (_what, value, id, reason) => {
    const checked = checkRecord(value);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.id).toBe(id);
      expect(checked.reason).toContain(reason);
    }
  });
});
