/**
 * External command-line tools in tests: find them on PATH, and run, skip or fail a suite depending on
 * whether the tool is there. Missing tools skip locally, but under CI they fail so a broken CI image can
 * never turn an interop suite into a silent no-op.
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of executable `name` on PATH (or `name` itself when it contains a slash), or null. */
export function findTool(name: string, searchPath: string = process.env.PATH ?? ""): string | null {
  if (name.includes("/")) return isExecutableFile(name) ? path.resolve(name) : null;
  for (const dir of searchPath.split(path.delimiter)) {
    // An empty PATH element means the current directory; tests should not pick tools up from there.
    if (dir === "") continue;
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export type ToolAvailability =
  | { mode: "run"; toolPath: string }
  | { mode: "skip"; reason: string }
  | { mode: "fail"; reason: string };

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === "true";
}

/** Whether a suite needing `tool` should run, be skipped (locally) or fail (under CI=true). */
export function toolAvailability(tool: string, env: NodeJS.ProcessEnv = process.env): ToolAvailability {
  const toolPath = findTool(tool, env.PATH ?? "");
  if (toolPath) return { mode: "run", toolPath };
  if (isCi(env)) return { mode: "fail", reason: `${tool} is required under CI=true but was not found on PATH` };
  return { mode: "skip", reason: `${tool} not found on PATH` };
}

/**
 * `describe(title, fn)` when `tool` is on PATH. Otherwise the suite is skipped with the reason in its title,
 * or, under CI=true, replaced by a single failing test.
 */
export function describeWithTool(tool: string, title: string, fn: () => void): void {
  const availability = toolAvailability(tool);
  switch (availability.mode) {
    case "run":
      describe(title, fn);
      return;
    case "skip":
      describe.skip(`${title} [skipped: ${availability.reason}]`, fn);
      return;
    case "fail":
      describe(title, () => {
        test(`requires ${tool}`, () => {
          throw new Error(availability.reason);
        });
      });
      return;
  }
}

/**
 * `test` when what it needs (`available`) is on this machine. Otherwise a test skipped with `reason` in its title,
 * or, under CI=true (where .ci/run installs it), a test that fails with the reason: never a silent no-op in CI.
 */
export function testIf(available: boolean, reason: string): jest.It {
  if (available) return test;
  const missing = ((name: string, fn?: jest.ProvidesCallback) =>
    isCi()
      ? test(name, () => {
          throw new Error(`required under CI=true: ${reason}`);
        })
      : test.skip(`${name} [skipped: ${reason}]`, fn)) as jest.It;
  return missing;
}

/** `describe` for a suite that needs `available`: as testIf, for a whole suite. */
export function describeIf(available: boolean, reason: string, title: string, fn: () => void): void {
  if (available) describe(title, fn);
  else if (isCi()) describe(title, () => testIf(false, reason)("its fixture", () => undefined));
  else describe.skip(`${title} [skipped: ${reason}]`, fn);
}
