/**
 * The Go analyzer on real executables. skopeo and docker-registry are Debian packages CI installs (.ci/run):
 * Debian builds them in GOPATH mode with Go 1.19.8, so their build info has `path` and `build` lines but no module
 * list — only the standard library can be reported, which is what `go version -m` shows for them too. Module-mode
 * build info (main module, deps, replacements) is covered on built ELF files (go-binary.test.ts): no module-mode Go
 * executable can be installed from Debian's packages on a fresh machine.
 */
import { readFileSync } from "node:fs";
import { analyze, goVersionToSemver, readBuildInfo } from "../../../../registry/scanning/analyzers/go-binary";
import { findTool, describeWithTool } from "../../../support/tools";

function realBinary(tool: string): { path: string; content: Buffer } {
  const toolPath = findTool(tool);
  if (!toolPath) throw new Error(`${tool} not on PATH`);
  return { path: toolPath.slice(1), content: readFileSync(toolPath) };
}

/**
 * How often a Go release string occurs in the file. The runtime keeps its own copy for runtime.Version(), besides the
 * one in .go.buildinfo, so a version read correctly from the build info occurs at least twice.
 */
function occurrences(content: Buffer, text: string): number {
  let count = 0;
  for (let at = content.indexOf(text); at >= 0; at = content.indexOf(text, at + 1)) count++;
  return count;
}

describe.each([
  ["skopeo", "github.com/containers/skopeo/cmd/skopeo"],
  ["docker-registry", "github.com/docker/distribution/cmd/registry"],
])("%s", (tool, mainPackage) => {
  describeWithTool(tool, `go-binary analyzer on ${tool}`, () => {
    test("the build info is found through the section headers, and stdlib is reported at the Go version", () => {
      const { path, content } = realBinary(tool);
      const info = readBuildInfo(content);
      expect(info).not.toBeNull();
      expect(info!.goVersion).toMatch(/^go1\.\d+/);
      expect(info!.modinfo.split("\n")).toContain(`path\t${mainPackage}`);
      expect(occurrences(content, info!.goVersion)).toBeGreaterThanOrEqual(2);
      const packages = analyze(path, content);
      const stdlib = packages.find((p) => p.name === "stdlib");
      expect(stdlib).toEqual({
        ecosystem: "Go",
        name: "stdlib",
        version: goVersionToSemver(info!.goVersion),
        sourceName: "stdlib",
        sourceVersion: goVersionToSemver(info!.goVersion),
        path,
        purl: `pkg:golang/stdlib@${goVersionToSemver(info!.goVersion)}`,
      });
      // Every module line in the build info becomes a package; GOPATH-mode builds have none.
      const moduleLines = info!.modinfo.split("\n").filter((l) => /^(mod|dep)\t/.test(l)).length;
      expect(packages).toHaveLength(moduleLines + 1);
    });
  });
});
