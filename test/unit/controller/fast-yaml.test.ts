import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import { fastYaml } from "../../../controller/policy/fast-yaml";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "examples", "policies");

/** What loadPolicy read before the fast reader: `yaml`'s document as JS, or its first problem. */
function byYaml(text: string): { data: unknown } | { problem: string } {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const problem = [...document.errors, ...document.warnings][0];
  return problem ? { problem: problem.message } : { data: document.toJS() };
}

describe("fastYaml", () => {
  it("reads the example policies as yaml does", async () => {
    for (const file of ["projects.yaml", "members.yaml"]) {
      const text = await readFile(path.join(EXAMPLE, file), "utf8");
      expect(fastYaml(text)).toEqual(byYaml(text));
    }
  });

  it.each([
    ["YAML 1.2 core scalars", "a: 90\nb: 1.5\nc: 0x1F\nd: 0o17\ne: True\nf: yes\ng: ~\nh: 1e3\ni: -0x1\nj: 0b11\nk: 1_000\nl: .5\nm: 1.\nn: '12'\no: \"on\"\np: null\nq:\n"],
    ["quoted cron and patterns", 'schedule: "0 0 3 * * *"\ntags: "release-*"\nrepos: \'**\'\nnote: it\'s fine\n'],
    ["flow sequences and maps as values", "access: [pull, push]\nparams: {latestPushedK: 10}\nitems: [CVE-2024-1, \"CVE-2024-2\"]\n"],
    ["block scalars", "description: |\n  two\n  lines\nfolded: >-\n  one\n  line\n"],
    ["escapes", 'a: "tab\\there \\u00e9 \\x41"\nb: \'it\'\'s\'\n'],
    ["an empty file", ""],
    ["a list at the top", "- a\n- b\n"],
  ])("reads %s exactly as yaml does", (_, text) => {
    const fast = fastYaml(text);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(byYaml(text));
  });

  it.each([
    ["anchors and aliases", "a: &x [1, 2]\nb: *x\n"],
    ["a tag", "a: !!str 12\n"],
    ["a directive", "%YAML 1.1\n---\na: yes\n"],
    ["a null key", "members:\n  ~:\n    - user: a\n"],
    ["a null key written out", "null: 1\n"],
    ["an explicit key", "? a\n: 1\n"],
    ["a flow collection as a key", "[a, b]: 1\n"],
    ["nested flow collections", "a: [[1], 2]\n"],
    ["a flow end at its parent's indentation", "a: [\n  1,\n]\n"],
    ["a key over 1024 characters", `${"k".repeat(1030)}: 1\n`],
    ["duplicate keys", "a: 1\na: 2\n"],
    ["two documents", "a: 1\n---\nb: 2\n"],
    ["a syntax error", "projects:\n  - name: a\n    public: [true\n"],
  ])("leaves %s to yaml", (_, text) => {
    expect(fastYaml(text)).toBeNull();
  });
});
