import { readFileSync } from "node:fs";
import path from "node:path";
import { analyze, interest, NPM_PACKAGE_JSON_MAX_BYTES } from "../../../../registry/scanning/analyzers/npm";

const repoRoot = path.resolve(__dirname, "../../../..");

describe("npm analyzer: interest", () => {
  test.each([
    ["app/node_modules/express/package.json", true],
    ["node_modules/@types/node/package.json", true],
    ["usr/lib/node_modules/npm/node_modules/semver/package.json", true],
    ["app/node_modules/.pnpm/left-pad@1.3.0/node_modules/left-pad/package.json", true], // pnpm's store layout
    ["app/package.json", false], // the application itself is not a dependency
    ["app/node_modules/yauzl/lib/package.json", false], // below a package's root: {"type": "module"} markers
    ["app/node_modules/@types/package.json", false], // a scope directory is not a package
    ["app/node_modules/express/package.json.bak", false],
    ["app/node_modules/.package-lock.json", false],
  ])("%s → %s", (file, wanted) => {
    expect(interest(file, 1000)).toBe(wanted);
  });

  test("files over the cap are not wanted", () => {
    expect(interest("node_modules/x/package.json", NPM_PACKAGE_JSON_MAX_BYTES)).toBe(true);
    expect(interest("node_modules/x/package.json", NPM_PACKAGE_JSON_MAX_BYTES + 1)).toBe(false);
    expect(interest("node_modules/x/package.json", 2000, 1000)).toBe(false);
  });
});

describe("npm analyzer: analyze", () => {
  test("a real installed package.json (this repository's yauzl)", () => {
    const file = "node_modules/yauzl/package.json";
    const content = readFileSync(path.join(repoRoot, file));
    const expectedVersion = (JSON.parse(content.toString()) as { version: string }).version;
    expect(expectedVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(analyze(file, content)).toEqual([
      {
        ecosystem: "npm",
        name: "yauzl",
        version: expectedVersion,
        sourceName: "yauzl",
        sourceVersion: expectedVersion,
        path: file,
        purl: `pkg:npm/yauzl@${expectedVersion}`,
      },
    ]);
  });

  test("a real scoped package: the scope's @ is percent-encoded in the purl, the slash is not", () => {
    const file = "node_modules/@types/yauzl/package.json";
    const [pkg] = analyze(file, readFileSync(path.join(repoRoot, file)));
    expect(pkg?.name).toBe("@types/yauzl");
    expect(pkg?.purl).toBe(`pkg:npm/%40types/yauzl@${pkg?.version}`);
  });

  test("a prerelease with build metadata keeps its version; + is encoded in the purl", () => {
    const [pkg] = analyze("node_modules/x/package.json", Buffer.from('{"name":"x","version":"1.0.0-rc.1+build.5"}'));
    expect(pkg?.version).toBe("1.0.0-rc.1+build.5");
    expect(pkg?.purl).toBe("pkg:npm/x@1.0.0-rc.1%2Bbuild.5");
  });

  test("an alias directory reports the manifest's own name", () => {
    const [pkg] = analyze("node_modules/my-lodash/package.json", Buffer.from('{"name":"lodash","version":"4.17.20"}'));
    expect(pkg?.name).toBe("lodash");
  });

  test.each([
    ["not JSON", "{"],
    ["no version", '{"name":"x"}'],
    ["no name", '{"version":"1.0.0"}'],
    ["a version that is not a string", '{"name":"x","version":1}'],
    ["JSON that is not an object", "null"],
    ["an array", "[]"],
  ])("%s gives no package", (_label, text) => {
    expect(analyze("node_modules/x/package.json", Buffer.from(text))).toEqual([]);
  });
});
