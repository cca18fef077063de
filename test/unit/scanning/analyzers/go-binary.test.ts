import {
  analyze,
  GO_BINARY_MAX_BYTES,
  goVersionToSemver,
  interest,
  modulesFromModinfo,
  readBuildInfo,
} from "../../../../registry/scanning/analyzers/go-binary";
import { buildGoElf } from "../../../support/go-elf";

const MODINFO = [
  "path\texample.com/app/cmd/server",
  "mod\texample.com/app\tv1.4.0\th1:abc=",
  "dep\tgithub.com/BurntSushi/toml\tv1.3.2\th1:def=",
  "dep\tgolang.org/x/net\tv0.17.0\th1:ghi=",
  "=>\tgithub.com/fork/net\tv0.19.0\th1:jkl=",
  "dep\texample.com/local\tv0.0.0",
  "=>\t../local\t",
  "build\t-compiler=gc",
  "build\tGOOS=linux",
  "",
].join("\n");

describe("go-binary analyzer: interest", () => {
  test("executables under the cap only; without a mode nothing is wanted", () => {
    expect(interest("usr/local/bin/app", 10_000_000, 0o100755)).toBe(true);
    expect(interest("usr/local/bin/app", 10_000_000, 0o100744)).toBe(true);
    expect(interest("usr/share/doc/readme", 10_000, 0o100644)).toBe(false);
    expect(interest("usr/local/bin/app", 10_000_000)).toBe(false);
    expect(interest("usr/local/bin/app", GO_BINARY_MAX_BYTES + 1, 0o100755)).toBe(false);
    expect(interest("usr/local/bin/app", 2000, 0o100755, 1000)).toBe(false);
    expect(interest("usr/local/bin/tiny", 16, 0o100755)).toBe(false);
  });
});

describe("go-binary analyzer: build info formats", () => {
  const expectedPurls = [
    "pkg:golang/example.com/app@v1.4.0",
    "pkg:golang/github.com/BurntSushi/toml@v1.3.2",
    "pkg:golang/github.com/fork/net@v0.19.0",
    "pkg:golang/example.com/local",
    "pkg:golang/stdlib@v1.21.5",
  ];

  test.each([
    ["Go ≥ 1.18 inline strings, ELF64 little-endian", { format: "inline" as const }],
    ["Go ≥ 1.18 inline strings, ELF32 big-endian", { format: "inline" as const, is64: false, littleEndian: false }],
    ["Go < 1.18 pointers, ELF64 little-endian", { format: "pointer" as const }],
    ["Go < 1.18 pointers, ELF32 big-endian", { format: "pointer" as const, is64: false, littleEndian: false }],
    ["inline strings without section headers (found by the magic)", { format: "inline" as const, withoutSectionHeaders: true }],
  ])("%s", (_label, layout) => {
    const binary = buildGoElf({ goVersion: "go1.21.5", modinfo: MODINFO, ...layout });
    expect(readBuildInfo(binary)).toEqual({ goVersion: "go1.21.5", modinfo: MODINFO });
    const packages = analyze("usr/local/bin/server", binary);
    expect(packages.map((p) => p.purl)).toEqual(expectedPurls);
    expect(packages[0]).toEqual({
      ecosystem: "Go",
      name: "example.com/app",
      version: "v1.4.0",
      sourceName: "example.com/app",
      sourceVersion: "v1.4.0",
      path: "usr/local/bin/server",
      purl: "pkg:golang/example.com/app@v1.4.0",
    });
  });

  test("the pointer format cannot be followed without section headers: nothing is reported", () => {
    const binary = buildGoElf({ goVersion: "go1.16.15", modinfo: MODINFO, format: "pointer", withoutSectionHeaders: true });
    expect(analyze("bin/old", binary)).toEqual([]);
  });

  test("an ELF whose section headers have no .go.buildinfo is not searched for the magic", () => {
    const binary = buildGoElf({ goVersion: "go1.21.5", modinfo: MODINFO, format: "inline" });
    expect(analyze("bin/x", binary)).toHaveLength(5);
    binary.write(".go.notinfo", 0x2000 + 1, "latin1"); // rename the section in .shstrtab (at RODATA_OFFSET: no rodata)
    expect(analyze("bin/x", binary)).toEqual([]);
  });

  test("a binary built outside module mode (no mod line) reports only the standard library", () => {
    const binary = buildGoElf({ goVersion: "go1.19.8", modinfo: "path\tgithub.com/x/y/cmd/z\nbuild\t-compiler=gc\n", format: "inline" });
    expect(analyze("bin/z", binary).map((p) => p.purl)).toEqual(["pkg:golang/stdlib@v1.19.8"]);
  });

  test("a (devel) main module stays in the inventory with no version", () => {
    const binary = buildGoElf({ goVersion: "go1.22.1", modinfo: "path\tx.io/a\nmod\tx.io/a\t(devel)\t\n", format: "inline" });
    expect(analyze("bin/a", binary).map((p) => [p.name, p.version])).toEqual([
      ["x.io/a", ""],
      ["stdlib", "v1.22.1"],
    ]);
  });

  test("a binary without build info, a non-ELF file and a truncated header give nothing", () => {
    const elf = buildGoElf({ goVersion: "go1.21.5", modinfo: MODINFO, format: "inline" });
    elf.write("\xff Go buildinX", 0x1000, "latin1"); // corrupt the magic
    expect(analyze("bin/c", elf)).toEqual([]);
    expect(analyze("bin/script", Buffer.from("#!/bin/sh\necho \xff Go buildinf:\n", "latin1"))).toEqual([]);
    const whole = buildGoElf({ goVersion: "go1.21.5", modinfo: MODINFO, format: "inline", withoutSectionHeaders: true });
    expect(analyze("bin/t", whole.subarray(0, 0x1000 + 40))).toEqual([]);
  });

  test("a varint length running past the end of the file is rejected, not read out of bounds", () => {
    const binary = buildGoElf({ goVersion: "go1.21.5", modinfo: MODINFO, format: "inline" });
    binary[0x1000 + 32] = 0xff; // version length: continuation bits all the way
    binary.fill(0xff, 0x1000 + 33, 0x1000 + 41);
    expect(readBuildInfo(binary)).toBeNull();
  });
});

describe("go-binary analyzer: modinfo and versions", () => {
  test("replacements replace the module before them; a local directory replacement loses the version", () => {
    expect(modulesFromModinfo(MODINFO)).toEqual([
      { path: "example.com/app", version: "v1.4.0", main: true },
      { path: "github.com/BurntSushi/toml", version: "v1.3.2", main: false },
      { path: "github.com/fork/net", version: "v0.19.0", main: false },
      { path: "example.com/local", version: "", main: false },
    ]);
  });

  test.each([
    ["go1.21.5", "v1.21.5"],
    ["go1.20", "v1.20.0"],
    ["go1.21rc2", "v1.21.0-rc.2"],
    ["go1.19beta1", "v1.19.0-beta.1"],
    ["go1.22.0 X:boringcrypto", "v1.22.0"],
    ["go1.16.15", "v1.16.15"],
    ["devel go1.23-abcdef Mon Jan 1", null],
    ["gofoo", null],
  ])("%s → %s", (go, semver) => {
    expect(goVersionToSemver(go)).toBe(semver);
  });
});
