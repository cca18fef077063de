import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import * as CDX from "@cyclonedx/cyclonedx-library";
import * as npm from "../../../../registry/scanning/analyzers/npm";
import type { Inventory, Package } from "../../../../registry/scanning/inventory";
import { cycloneDxSbom } from "../../../../registry/scanning/sbom/cyclonedx";

const ROOT = path.resolve(__dirname, "../../../..");
const SUBJECT = { repository: "library/app", digest: `sha256:${"ab".repeat(32)}` };
const OPTIONS = { tool: { name: "berth", version: "0.1.0" }, timestamp: new Date("2026-12-03T00:00:00Z"), serialNumber: "urn:uuid:2f1c6a9e-4b7d-4c1e-9a43-0c5e8d6b7f10" };

/** Real installed npm packages: every package.json at a package root directly under this project's node_modules. */
function installedNpmPackages(): Package[] {
  const found: Package[] = [];
  for (const name of readdirSync(path.join(ROOT, "node_modules"))) {
    const dirs = name.startsWith("@") ? readdirSync(path.join(ROOT, "node_modules", name)).map((sub) => `${name}/${sub}`) : [name];
    for (const dir of dirs) {
      const file = `node_modules/${dir}/package.json`;
      let content: Buffer;
      try {
        content = readFileSync(path.join(ROOT, file));
      } catch {
        continue;
      }
      if (npm.interest(file, content.length)) found.push(...npm.analyze(file, content));
    }
  }
  return found;
}

const DEBIAN_LIBC: Package = {
  ecosystem: "Debian",
  name: "libc6",
  version: "2.36-9+deb12u14",
  sourceName: "glibc",
  sourceVersion: "2.36-9+deb12u14",
  arch: "amd64",
  path: "var/lib/dpkg/status",
  purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12",
};

describe("CycloneDX SBOM of an inventory", () => {
  const packages = [DEBIAN_LIBC, ...installedNpmPackages()];
  const inventory: Inventory = { distribution: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" }, packages };
  const text = cycloneDxSbom(SUBJECT, inventory, OPTIONS);
  const bom = JSON.parse(text) as {
    specVersion: string;
    serialNumber: string;
    metadata: { component: { type: string; name: string; version: string; "bom-ref": string }; tools: { components: { name: string }[] } };
    components: { type: string; name: string; version?: string; purl?: string; "bom-ref": string; properties?: { name: string; value: string }[] }[];
    dependencies: { ref: string; dependsOn?: string[] }[];
  };

  it("is valid CycloneDX 1.5 JSON by the schema", async () => {
    expect(packages.length).toBeGreaterThan(50);
    const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
    expect(await validator.validate(text)).toBeNull();
  });

  it("names the image as its subject, the distribution as its operating system and every package with its purl", () => {
    expect(bom.specVersion).toBe("1.5");
    expect(bom.serialNumber).toBe(OPTIONS.serialNumber);
    expect(bom.metadata.component).toMatchObject({ type: "container", name: "library/app", version: SUBJECT.digest });
    expect(bom.metadata.tools.components).toEqual([expect.objectContaining({ name: "berth" })]);
    expect(bom.components).toContainEqual(expect.objectContaining({ type: "operating-system", name: "debian", version: "12" }));
    const libraries = bom.components.filter((component) => component.type === "library");
    expect(libraries).toHaveLength(packages.length);
    const yaml = libraries.find((component) => component.name === "yaml");
    const installed = JSON.parse(readFileSync(path.join(ROOT, "node_modules/yaml/package.json"), "utf8")) as { version: string };
    expect(yaml).toMatchObject({ version: installed.version, purl: `pkg:npm/yaml@${installed.version}` });
    // Every component hangs off the image.
    const image = bom.dependencies.find((dependency) => dependency.ref === bom.metadata.component["bom-ref"]);
    expect(image?.dependsOn).toHaveLength(bom.components.length);
  });

  it("carries the name vulnerability data is keyed by when it differs from the installed one", () => {
    const libc = bom.components.find((component) => component.name === "libc6");
    expect(libc?.properties).toEqual(expect.arrayContaining([{ name: "aquasecurity:trivy:SrcName", value: "glibc" }, { name: "berth:arch", value: "amd64" }]));
    expect(libc?.properties?.map((property) => property.name)).not.toContain("aquasecurity:trivy:SrcVersion");
  });

  it("is the same document for the same inventory, and lists a package found twice in one file once", () => {
    expect(cycloneDxSbom(SUBJECT, inventory, OPTIONS)).toBe(text);
    const twice = cycloneDxSbom(SUBJECT, { distribution: null, packages: [DEBIAN_LIBC, DEBIAN_LIBC] }, OPTIONS);
    expect((JSON.parse(twice) as typeof bom).components).toHaveLength(1);
  });
});
