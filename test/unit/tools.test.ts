import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describeWithTool, findTool, toolAvailability } from "../support/tools";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-tools-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeFile(relative: string, mode: number): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, "#!/bin/sh\nexit 0\n");
  await chmod(file, mode);
  return file;
}

const NO_SUCH_TOOL = "berth-test-no-such-tool";

describe("findTool", () => {
  it("returns the first executable of that name along PATH", async () => {
    await makeFile("first/mytool", 0o644);
    const second = await makeFile("second/mytool", 0o755);
    await makeFile("third/mytool", 0o755);
    const searchPath = ["first", "second", "third"].map((sub) => path.join(dir, sub)).join(path.delimiter);
    expect(findTool("mytool", searchPath)).toBe(second);
  });

  it("ignores directories that carry the tool's name", async () => {
    await mkdir(path.join(dir, "bin", "mytool"), { recursive: true });
    expect(findTool("mytool", path.join(dir, "bin"))).toBeNull();
  });

  it("returns null when the tool is nowhere on PATH", () => {
    expect(findTool(NO_SUCH_TOOL, dir)).toBeNull();
    expect(findTool(NO_SUCH_TOOL, "")).toBeNull();
  });

  it("checks a name with a slash directly instead of searching PATH", async () => {
    const tool = await makeFile("direct/mytool", 0o755);
    expect(findTool(tool, "")).toBe(tool);
    expect(findTool(path.join(dir, "direct", "missing"), "")).toBeNull();
  });

  it("searches process.env.PATH by default", () => {
    expect(findTool("sh")).toMatch(/\/sh$/);
  });
});

describe("toolAvailability", () => {
  it("runs when the tool is found", async () => {
    const tool = await makeFile("bin/mytool", 0o755);
    expect(toolAvailability("mytool", { PATH: path.dirname(tool) })).toEqual({ mode: "run", toolPath: tool });
  });

  it("skips a missing tool outside CI", () => {
    expect(toolAvailability(NO_SUCH_TOOL, { PATH: dir })).toEqual({ mode: "skip", reason: `${NO_SUCH_TOOL} not found on PATH` });
    expect(toolAvailability(NO_SUCH_TOOL, { PATH: dir, CI: "false" }).mode).toBe("skip");
  });

  it("fails a missing tool under CI=true", () => {
    expect(toolAvailability(NO_SUCH_TOOL, { PATH: dir, CI: "true" })).toEqual({
      mode: "fail",
      reason: `${NO_SUCH_TOOL} is required under CI=true but was not found on PATH`,
    });
  });
});

let ranBodyForSh = false;
describeWithTool("sh", "describeWithTool with a tool that exists", () => {
  ranBodyForSh = true;
  it("runs the suite", () => {
    expect(ranBodyForSh).toBe(true);
  });
});
