/**
 * Squashing layer inventories read from real tar layers (built here), bottom layer first, as an overlay mount
 * stacks them (OCI image-spec layer.md; the cases of SCANNING.md §7.4).
 */
import { existsSync, readFileSync } from "node:fs";
import { osvEcosystemOf } from "../../../../registry/scanning/analyzers/os-release";
import type { Inventory } from "../../../../registry/scanning/inventory";
import { inventoryOfLayer, LAYER_INVENTORY_VERSION, squashLayers, StaleLayerInventoryError, type LayerInventory } from "../../../../registry/scanning/layers/index";
import { matchInventory, type VulnerabilitySource } from "../../../../registry/scanning/osv/match";
import type { OsvRecord } from "../../../../registry/scanning/osv/types";
import { rpmPackageHeader, sqlJsDatabase } from "../analyzers/rpm-fixtures";
import { blob, gzipLayer, type TarEntry } from "./layer-tar";
import { testIf } from "../../../support/tools";

const DEBIAN_OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const UBUNTU_OS_RELEASE = 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n';

const dpkgStatus = (...packages: Array<[string, string, string?]>): string =>
  packages.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ""}Version: ${version}\n`).join("\n");

const npmManifest = (name: string, version: string): string => JSON.stringify({ name, version });

async function layer(entries: TarEntry[]): Promise<LayerInventory> {
  // Through JSON, as the cache stores it.
  return JSON.parse(JSON.stringify(await inventoryOfLayer(blob(await gzipLayer(entries))))) as LayerInventory;
}

const names = (inventory: Inventory): string[] => inventory.packages.map((pkg) => `${pkg.ecosystem}/${pkg.name}@${pkg.version} ${pkg.path}`).sort();

describe("squashLayers", () => {
  let base: LayerInventory;
  beforeAll(async () => {
    base = await layer([
      { name: "etc/os-release", symlink: "../usr/lib/os-release" },
      { name: "usr/lib/os-release", content: DEBIAN_OS_RELEASE },
      { name: "etc/debian_version", content: "12.5\n" },
      { name: "var/lib/dpkg/status", content: dpkgStatus(["libc6", "2.36-9+deb12u2", "glibc"], ["bash", "5.2.15-2+b8", "bash (5.2.15-2)"]) },
      { name: "app/node_modules/a/package.json", content: npmManifest("a", "1.0.0") },
      { name: "app/node_modules/b/package.json", content: npmManifest("b", "1.0.0") },
      { name: "opt/tool/node_modules/c/package.json", content: npmManifest("c", "1.0.0") },
    ]);
  });

  test("one layer: the distribution through the os-release symlink, the point release, OS purls with the distro", () => {
    const inventory = squashLayers([base]);
    expect(inventory.distribution).toEqual({ id: "debian", versionId: "12.5", prettyName: "Debian GNU/Linux 12 (bookworm)" });
    expect(osvEcosystemOf(inventory.distribution)).toBe("Debian:12");
    expect(names(inventory)).toEqual([
      "Debian/bash@5.2.15-2+b8 var/lib/dpkg/status",
      "Debian/libc6@2.36-9+deb12u2 var/lib/dpkg/status",
      "npm/a@1.0.0 app/node_modules/a/package.json",
      "npm/b@1.0.0 app/node_modules/b/package.json",
      "npm/c@1.0.0 opt/tool/node_modules/c/package.json",
    ]);
    expect(inventory.packages.find((pkg) => pkg.name === "libc6")!.purl).toBe("pkg:deb/debian/libc6@2.36-9%2Bdeb12u2?arch=amd64&distro=debian-12.5");
    expect(inventory.packages.find((pkg) => pkg.name === "a")!.purl).toBe("pkg:npm/a@1.0.0");
  });

  test("an upper layer's package database replaces the lower one whole", async () => {
    const upgrade = await layer([{ name: "var/lib/dpkg/status", content: dpkgStatus(["libc6", "2.36-9+deb12u14", "glibc"]) }]);
    expect(names(squashLayers([base, upgrade])).filter((name) => name.startsWith("Debian"))).toEqual(["Debian/libc6@2.36-9+deb12u14 var/lib/dpkg/status"]);
  });

  test("a whiteout removes the file, and a whiteout of a directory everything below it", async () => {
    const upper = await layer([
      { name: "var/lib/dpkg/.wh.status", content: "" },
      { name: "app/.wh.node_modules", content: "" },
    ]);
    expect(names(squashLayers([base, upper]))).toEqual(["npm/c@1.0.0 opt/tool/node_modules/c/package.json"]);
    // A whiteout of a path's prefix that is not a directory of it leaves it alone.
    const near = await layer([{ name: "app/node_modules/.wh.a", content: "" }]);
    expect(names(squashLayers([base, near]))).toContain("npm/b@1.0.0 app/node_modules/b/package.json");
    expect(names(squashLayers([base, near]))).not.toContain("npm/a@1.0.0 app/node_modules/a/package.json");
  });

  test("an opaque directory hides the lower layers' contents below it but not its own layer's, whatever the tar order", async () => {
    // The marker comes after the new file in tar order (SCANNING.md §7.4 case 4).
    const upper = await layer([
      { name: "app/node_modules/b/package.json", content: npmManifest("b", "2.0.0") },
      { name: "app/node_modules/.wh..wh..opq", content: "" },
      { name: "var/lib/dpkg/status", content: dpkgStatus(["libc6", "2.36-9+deb12u14", "glibc"]) },
      { name: "var/lib/dpkg/.wh..wh..opq", content: "" },
    ]);
    expect(names(squashLayers([base, upper]))).toEqual([
      "Debian/libc6@2.36-9+deb12u14 var/lib/dpkg/status",
      "npm/b@2.0.0 app/node_modules/b/package.json",
      "npm/c@1.0.0 opt/tool/node_modules/c/package.json",
    ]);
  });

  test("a whiteout applies to lower layers only: a file its own layer adds back stays", async () => {
    const upper = await layer([
      { name: "app/.wh.node_modules", content: "" },
      { name: "app/node_modules/d/package.json", content: npmManifest("d", "1.0.0") },
    ]);
    expect(names(squashLayers([base, upper])).filter((name) => name.includes("app/"))).toEqual(["npm/d@1.0.0 app/node_modules/d/package.json"]);
  });

  test("a root opaque marker hides everything below", async () => {
    const upper = await layer([{ name: "./.wh..wh..opq", content: "" }, { name: "node_modules/e/package.json", content: npmManifest("e", "1.0.0") }]);
    const inventory = squashLayers([base, upper]);
    expect(inventory.distribution).toBeNull();
    expect(names(inventory)).toEqual(["npm/e@1.0.0 node_modules/e/package.json"]);
  });

  test("an upper layer changing the symlink's target file changes the distribution; Ubuntu relabels dpkg's packages", async () => {
    const upper = await layer([{ name: "usr/lib/os-release", content: UBUNTU_OS_RELEASE }]);
    const inventory = squashLayers([base, upper]);
    // etc/debian_version still says 12.5, but it is Debian's file and the image is Ubuntu now.
    expect(inventory.distribution).toEqual({ id: "ubuntu", versionId: "22.04", prettyName: "Ubuntu 22.04.4 LTS" });
    expect(osvEcosystemOf(inventory.distribution)).toBe("Ubuntu:22.04:LTS");
    const libc6 = inventory.packages.find((pkg) => pkg.name === "libc6")!;
    expect(libc6.ecosystem).toBe("Ubuntu");
    expect(libc6.purl).toBe("pkg:deb/ubuntu/libc6@2.36-9%2Bdeb12u2?arch=amd64&distro=ubuntu-22.04");
  });

  test("a file too big to read in an upper layer still hides the lower one", async () => {
    const upper = await inventoryOfLayer(blob(await gzipLayer([{ name: "app/node_modules/a/package.json", content: " ".repeat(2 * 1024 * 1024) }])));
    expect(upper.files["app/node_modules/a/package.json"]!.skipped).toBeDefined();
    expect(names(squashLayers([base, upper]))).not.toContain("npm/a@1.0.0 app/node_modules/a/package.json");
  });

  test("etc/os-release as a plain file wins over usr/lib/os-release; a symlink loop is no distribution", async () => {
    const plain = await layer([{ name: "etc/os-release", content: UBUNTU_OS_RELEASE }]);
    expect(squashLayers([base, plain]).distribution!.id).toBe("ubuntu");
    const loop = await layer([
      { name: "etc/os-release", symlink: "/usr/lib/os-release" },
      { name: "usr/lib/os-release", symlink: "../../etc/os-release" },
      { name: "etc/.wh.debian_version", content: "" },
    ]);
    expect(squashLayers([base, loop]).distribution).toBeNull();
  });

  test("an Alpine image: apk packages and the release from alpine-release alone", async () => {
    const alpine = await layer([
      { name: "etc/alpine-release", content: "3.15.4\n" },
      { name: "lib/apk/db/installed", content: "P:zlib\nV:1.2.12-r1\nA:x86_64\no:zlib\n\nP:libcrypto1.1\nV:1.1.1n-r0\nA:x86_64\no:openssl\n" },
    ]);
    const inventory = squashLayers([alpine]);
    expect(osvEcosystemOf(inventory.distribution)).toBe("Alpine:v3.15");
    expect(inventory.packages.map((pkg) => pkg.purl)).toEqual([
      "pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.15.4",
      "pkg:apk/alpine/libcrypto1.1@1.1.1n-r0?arch=x86_64&distro=3.15.4",
    ]);
  });

  test.each([
    ["rocky", "9.4", "Rocky Linux", "rocky", "Rocky Linux:9"],
    ["almalinux", "9.4", "AlmaLinux", "almalinux", "AlmaLinux:9"],
    ["rhel", "9.4", "Red Hat", "redhat", null],
  ])("an %s image: rpmdb packages under the distribution's ecosystem", async (id, versionId, ecosystem, namespace, osv) => {
    const rpmdb = await sqlJsDatabase([rpmPackageHeader("openssl-libs", "3.0.7", "27.el9", "x86_64", "openssl-3.0.7-27.el9.src.rpm", 1)]);
    const image = await layer([
      { name: "etc/os-release", content: `ID="${id}"\nVERSION_ID="${versionId}"\nPRETTY_NAME="${id} ${versionId}"\n` },
      { name: "var/lib/rpm/rpmdb.sqlite", content: rpmdb },
    ]);
    const inventory = squashLayers([image]);
    expect(osvEcosystemOf(inventory.distribution)).toBe(osv);
    expect(inventory.packages).toEqual([
      expect.objectContaining({ ecosystem, name: "openssl-libs", version: "1:3.0.7-27.el9", sourceName: "openssl", purl: `pkg:rpm/${namespace}/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=${namespace}-${versionId}&epoch=1` }),
    ]);
  });

  test("inventories of another version are refused", () => {
    expect(() => squashLayers([{ ...base, version: LAYER_INVENTORY_VERSION - 1 }])).toThrow(StaleLayerInventoryError);
  });

  test("end to end: the squashed inventory matches OSV records of the image's release (the lowered glibc is found)", async () => {
    const record: OsvRecord = {
      id: "x_TEST-DEBIAN-CVE-2023-4911",
      aliases: ["CVE-2023-4911"],
      modified: "2023-10-03T00:00:00Z",
      summary: "test fixture",
      affected: [{ package: { ecosystem: "Debian:12", name: "glibc" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.36-9+deb12u3" }] }] }],
    } as OsvRecord;
    const source: VulnerabilitySource = { recordsFor: async (ecosystem, name) => (ecosystem === "Debian:12" && name === "glibc" ? [record] : []) };
    const inventory = squashLayers([base]);
    const { findings } = await matchInventory(inventory, osvEcosystemOf(inventory.distribution), source);
    expect(findings.map((finding) => [finding.id, finding.package, finding.fix_version])).toEqual([["CVE-2023-4911", "libc6", "2.36-9+deb12u3"]]);
  });

  testIf(existsSync("/var/lib/dpkg/status"), "a Debian host's /var/lib/dpkg/status")("the host's real status file: every package survives squashing once", async () => {
    const status = readFileSync("/var/lib/dpkg/status");
    const lower = await layer([{ name: "var/lib/dpkg/status", content: status }, { name: "usr/lib/os-release", content: DEBIAN_OS_RELEASE }]);
    const upper = await layer([{ name: "usr/lib/os-release", content: DEBIAN_OS_RELEASE }]);
    const inventory = squashLayers([lower, upper]);
    expect(inventory.packages.length).toBe(lower.files["var/lib/dpkg/status"]!.packages.length);
    expect(inventory.packages.every((pkg) => pkg.purl.includes("distro=debian-12"))).toBe(true);
  });
});
