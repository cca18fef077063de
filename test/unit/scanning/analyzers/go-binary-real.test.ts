/**
 * The Go analyzer on real executables. skopeo and docker-registry are Debian packages CI installs (.ci/run):
 * Debian builds them in GOPATH mode with Go 1.19.8, so their build info has `path` and `build` lines but no module
 * list — only the standard library can be reported, which is what `go version -m` shows for them too. kubectl
 * (Google's package) is a module-mode build with 82 dependencies; it is checked where it is installed, against
 * what `kubectl version` itself reports.
 */
import { execFileSync } from "node:child_process";
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

const kubectl = findTool("kubectl");
(kubectl ? describe : describe.skip)("go-binary analyzer on kubectl (module-mode build; where installed)", () => {
  test("stdlib matches kubectl's own goVersion, kustomize matches its kustomizeVersion, deps are all there", () => {
    const own = JSON.parse(execFileSync(kubectl!, ["version", "--client", "-o", "json"], { encoding: "utf8" })) as {
      clientVersion: { goVersion: string };
      kustomizeVersion?: string;
    };
    const content = readFileSync(kubectl!);
    const packages = analyze(kubectl!.slice(1), content);
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get("stdlib")?.version).toBe(goVersionToSemver(own.clientVersion.goVersion));
    if (own.kustomizeVersion) expect(byName.get("sigs.k8s.io/kustomize/kustomize/v5")?.version).toBe(own.kustomizeVersion);
    expect(byName.get("k8s.io/kubernetes")).toMatchObject({ version: "", purl: "pkg:golang/k8s.io/kubernetes" });
    expect(byName.get("golang.org/x/net")?.version).toMatch(/^v0\.\d+\.\d+$/);
    // Every distinct dep line in the binary (the module list also sits in the runtime's data) is reported once.
    const depLines = new Set(content.toString("latin1").match(/\ndep\t[^\t\n]+\t[^\t\n]+/g) ?? []);
    expect(packages.filter((p) => p.name !== "stdlib" && p.name !== "k8s.io/kubernetes")).toHaveLength(depLines.size);
  });
});
