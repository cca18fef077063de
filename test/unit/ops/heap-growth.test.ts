import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const COMPILED = path.join(__dirname, "..", "..", "..", "dist", "registry", "ops", "heap-growth.js");

/**
 * The growth factor V8 picks at a full collection, as `--trace-gc-verbose` prints it, in a Node that ran
 * applyHeapGrowth(percent) after it started (as `berth serve` does). Checks the running Node honours a flag set at run
 * time: a Node that freezes V8's flags after start would leave its own factor (4.0 at a first collection).
 */
async function factorAfter(percent: number): Promise<string[]> {
  const script = `require(${JSON.stringify(COMPILED)}).applyHeapGrowth(Number(process.argv[1])); globalThis.gc();`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--trace-gc-verbose", "--expose-gc", "-e", script, String(percent)], {
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  // "[HeapController] Limit: old size: 2623 KB, new limit: 11822 KB (2.0)": the factor in use, after any override.
  return [...stdout.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)$/gm)].map((match) => match[1]);
}

describe("applyHeapGrowth (BERTH_HEAP_GROWTH_PERCENT)", () => {
  it("sets the factor of every full collection after it, in the running process", async () => {
    expect(await factorAfter(100)).toEqual(["2.0"]);
    expect(await factorAfter(50)).toEqual(["1.5"]);
  });

  it("leaves V8's own choice alone at 0", async () => {
    expect(await factorAfter(0)).toEqual(["4.0"]);
  });
});
