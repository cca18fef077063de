/**
 * The layer walk on layers built here from real files of this machine and this repository: the host's os-release
 * and dpkg status (Debian 12), this project's node_modules/semver, and a Debian-built Go executable.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { analyze as analyzeDpkg } from "../../../../registry/scanning/analyzers/dpkg";
import { analyzersFor, DEFAULT_ANALYZER_LIMITS } from "../../../../registry/scanning/analyzers/index";
import { inventoryOfLayer, LAYER_INVENTORY_VERSION, LayerTooLargeError, LayerWalkError, normalizeLayerPath } from "../../../../registry/scanning/layers/index";
import { describeWithTool, isCi, testIf } from "../../../support/tools";
import { blob, gzipLayer, tarBytes, tarStream, treeEntries, zstdLayer, type TarEntry } from "./layer-tar";

const repoRoot = path.resolve(__dirname, "../../../..");
const HOST_OS_RELEASE = "/usr/lib/os-release";
const HOST_STATUS = "/var/lib/dpkg/status";

function hostFiles(): TarEntry[] {
  if (!existsSync(HOST_OS_RELEASE) || !existsSync(HOST_STATUS)) {
    if (isCi()) throw new Error("CI runs on Debian 12: /usr/lib/os-release and /var/lib/dpkg/status must exist");
    return [];
  }
  return [
    { name: "./etc/os-release", symlink: "../usr/lib/os-release" },
    { name: "./usr/lib/os-release", content: readFileSync(HOST_OS_RELEASE) },
    { name: "./etc/debian_version", content: readFileSync("/etc/debian_version") },
    { name: "./var/lib/dpkg/status", content: readFileSync(HOST_STATUS) },
  ];
}

describe("normalizeLayerPath", () => {
  test.each([
    ["./etc/os-release", "etc/os-release"],
    ["/etc/os-release", "etc/os-release"],
    ["etc//dpkg/../os-release", "etc/os-release"],
    ["usr/lib/", "usr/lib"],
    ["./", null],
    ["../etc/passwd", null],
    ["a/../../etc", null],
  ])("%s → %s", (name, expected) => {
    expect(normalizeLayerPath(name)).toBe(expected);
  });
});

describe("inventoryOfLayer", () => {
  test("a gzip layer with the host's OS files and a real node_modules package", async () => {
    const host = hostFiles();
    const semver = treeEntries(path.join(repoRoot, "node_modules/semver"), "usr/src/app/node_modules/semver");
    const layer = await inventoryOfLayer(blob(await gzipLayer([...host, { name: "usr/src/app/package.json", content: '{"name":"app","version":"1.0.0"}' }, ...semver])));

    expect(layer.version).toBe(LAYER_INVENTORY_VERSION);
    const semverVersion = (JSON.parse(readFileSync(path.join(repoRoot, "node_modules/semver/package.json"), "utf8")) as { version: string }).version;
    expect(layer.files["usr/src/app/node_modules/semver/package.json"]!.packages).toEqual([
      expect.objectContaining({ ecosystem: "npm", name: "semver", version: semverVersion, path: "usr/src/app/node_modules/semver/package.json" }),
    ]);
    expect(layer.files["usr/src/app/package.json"]).toBeUndefined(); // the application is not a dependency
    if (host.length > 0) {
      expect(layer.symlinks).toEqual({ "etc/os-release": "../usr/lib/os-release" });
      expect(layer.files["usr/lib/os-release"]!.distribution).toMatchObject({ id: "debian", versionId: "12" });
      expect(layer.files["etc/debian_version"]!.distribution!.versionId).toMatch(/^12\./);
      expect(layer.files["var/lib/dpkg/status"]!.packages).toEqual(analyzeDpkg("var/lib/dpkg/status", readFileSync(HOST_STATUS)));
    }
    // The result is stored as JSON: it must survive the round trip unchanged.
    expect(JSON.parse(JSON.stringify(layer))).toEqual(layer);
  });

  test("whiteouts and opaque markers are recorded, not analysed; aufs bookkeeping is not a whiteout", async () => {
    const layer = await inventoryOfLayer(
      blob(
        await tarBytes([
          { name: "var/lib/dpkg/.wh.status", content: "" },
          { name: "app/.wh.node_modules", content: "" },
          { name: "opt/data/.wh..wh..opq", content: "" },
          { name: ".wh..wh..opq", content: "" },
          { name: ".wh..wh.plnk/123.456", content: "" },
          { name: "../escape/node_modules/x/package.json", content: '{"name":"x","version":"1.0.0"}' },
        ]),
      ),
    );
    expect(layer.whiteouts.sort()).toEqual(["app/node_modules", "var/lib/dpkg/status"]);
    expect(layer.opaqueDirs.sort()).toEqual(["", "opt/data"]);
    expect(layer.files).toEqual({});
  });

  test("the last entry of a path wins; a hard link carries its target's findings", async () => {
    const layer = await inventoryOfLayer(
      blob(
        await tarBytes([
          { name: "a/node_modules/x/package.json", content: '{"name":"x","version":"1.0.0"}' },
          { name: "a/node_modules/x/package.json", content: '{"name":"x","version":"2.0.0"}' },
          { name: "b/node_modules/x/package.json", hardlink: "a/node_modules/x/package.json" },
          { name: "etc/os-release", content: "ID=debian\n" },
          { name: "etc/os-release", symlink: "../usr/lib/os-release" },
        ]),
      ),
    );
    expect(layer.files["a/node_modules/x/package.json"]!.packages.map((pkg) => pkg.version)).toEqual(["2.0.0"]);
    expect(layer.files["b/node_modules/x/package.json"]!.packages.map((pkg) => [pkg.version, pkg.path])).toEqual([["2.0.0", "b/node_modules/x/package.json"]]);
    expect(layer.files["etc/os-release"]).toBeUndefined();
    expect(layer.symlinks["etc/os-release"]).toBe("../usr/lib/os-release");
  });

  test("a file over its analyzer's limit is listed as skipped (it still hides lower layers' file)", async () => {
    const limits = { ...DEFAULT_ANALYZER_LIMITS, npmManifestMaxBytes: 10 };
    const layer = await inventoryOfLayer(blob(await tarBytes([{ name: "node_modules/x/package.json", content: '{"name":"x","version":"1.0.0"}' }])), { limits });
    expect(layer.files["node_modules/x/package.json"]).toEqual({ packages: [], skipped: expect.stringMatching(/outside the analyzers' size limits/) });
  });

  test("the analysis budget of a layer: later files are listed as skipped", async () => {
    const manifest = '{"name":"x","version":"1.0.0"}';
    const layer = await inventoryOfLayer(
      blob(await tarBytes([{ name: "node_modules/x/package.json", content: manifest }, { name: "node_modules/y/package.json", content: manifest }])),
      { maxAnalyzedBytes: manifest.length + 1 },
    );
    expect(layer.files["node_modules/x/package.json"]!.packages).toHaveLength(1);
    expect(layer.files["node_modules/y/package.json"]!.skipped).toMatch(/budget/);
  });

  test("an analyzer that throws costs its file, not the layer", async () => {
    const analyzers = [
      ...analyzersFor(),
      { name: "broken", interest: (p: string) => p === "etc/broken", analyze: () => Promise.reject(new Error("boom")) },
    ];
    const layer = await inventoryOfLayer(blob(await tarBytes([{ name: "etc/broken", content: "x" }, { name: "node_modules/x/package.json", content: '{"name":"x","version":"1.0.0"}' }])), { analyzers });
    expect(layer.files["etc/broken"]).toEqual({ packages: [], skipped: "the broken analyzer failed: boom" });
    expect(layer.files["node_modules/x/package.json"]!.packages).toHaveLength(1);
  });

  test("findings with U+0000 are dropped: the cache's jsonb cannot hold them", async () => {
    const layer = await inventoryOfLayer(
      blob(
        await tarBytes([
          { name: "node_modules/x/package.json", content: '{"name":"x\\u0000y","version":"1.0.0"}' },
          { name: "etc/os-release", content: "ID=debian\nVERSION_ID=12\u0000\n" },
        ]),
      ),
    );
    expect(layer.files["node_modules/x/package.json"]).toEqual({ packages: [] });
    expect(layer.files["etc/os-release"]).toEqual({ packages: [] });
  });

  test("limits: entries, decompressed size; damaged input fails", async () => {
    const entries: TarEntry[] = [{ name: "a", content: "1" }, { name: "b", content: "2" }, { name: "c", content: "3" }];
    await expect(inventoryOfLayer(blob(await tarBytes(entries)), { maxEntries: 2 })).rejects.toThrow(LayerWalkError);
    await expect(inventoryOfLayer(blob(await gzipLayer(entries)), { maxDecompressedBytes: 1024 })).rejects.toThrow(LayerTooLargeError);
    const tar = await tarBytes([{ name: "node_modules/x/package.json", content: "x".repeat(5000) }]);
    await expect(inventoryOfLayer(blob(tar.subarray(0, 2048)))).rejects.toThrow();
    const gz = await gzipLayer(entries);
    await expect(inventoryOfLayer(blob(gz.subarray(0, gz.length - 8)))).rejects.toThrow();
  });

  test("uninteresting big files are drained, not buffered (64 MiB of zeros; a generous memory bound)", async () => {
    const source = tarStream([
      { name: "data/zeros.bin", zeros: 64 * 1024 * 1024 },
      { name: "data/zeros-2.bin", zeros: 64 * 1024 * 1024 },
      { name: "node_modules/x/package.json", content: '{"name":"x","version":"1.0.0"}' },
    ]);
    const gz = source.pipe(createGzip({ level: 1 }));
    const before = process.memoryUsage();
    let peak = 0;
    const sample = (): void => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers + (now.heapUsed - before.heapUsed));
    };
    const timer = setInterval(sample, 5);
    try {
      const layer = await inventoryOfLayer(gz);
      sample();
      expect(Object.keys(layer.files)).toEqual(["node_modules/x/package.json"]);
    } finally {
      clearInterval(timer);
    }
    // Buffering either file would add 64 MiB of array buffers.
    expect(peak).toBeLessThan(40 * 1024 * 1024);
  });
});

const GO_BINARY = ["/usr/bin/skopeo", "/usr/bin/docker-registry"].find((file) => existsSync(file));

describeWithTool("zstd", "inventoryOfLayer: a zstd layer with a real Go executable", () => {
  testIf(GO_BINARY !== undefined, "a Go executable: skopeo or docker-registry, which .ci/run installs")(`the Go build info of ${GO_BINARY ?? "skopeo or docker-registry"}`, async () => {
    const binary = GO_BINARY!;
    const content = readFileSync(binary);
    const name = binary.slice(1);
    const layer = await inventoryOfLayer(
      Readable.from([
        await zstdLayer([
          { name, content, mode: 0o755 },
          { name: `${name}.copy-not-executable`, content, mode: 0o644 },
        ]),
      ]),
    );
    const packages = layer.files[name]!.packages;
    expect(packages.find((pkg) => pkg.name === "stdlib")).toEqual(expect.objectContaining({ ecosystem: "Go", path: name }));
    expect(layer.files[`${name}.copy-not-executable`]).toBeUndefined();
  });
});
