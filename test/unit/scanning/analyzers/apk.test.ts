import { analyze, interest } from "../../../../registry/scanning/analyzers/apk";

// A hand-written lib/apk/db/installed in apk-tools' format (field letters per apk-tools' database).
const INSTALLED = [
  "C:Q1kzYQiJbTcGzTpP8zu6j1y5nZvN0=",
  "P:musl",
  "V:1.2.2-r7",
  "A:x86_64",
  "S:383152",
  "I:622592",
  "T:the musl c library (libc) implementation",
  "U:https://musl.libc.org/",
  "L:MIT",
  "o:musl",
  "m:Timo Teräs <timo.teras@iki.fi>",
  "t:1632431095",
  "c:bf5bbfdbf780092f387b7abe401fbfceda90c84e",
  "p:so:libc.musl-x86_64.so.1=1",
  "F:lib",
  "R:libc.musl-x86_64.so.1",
  "a:0:0:777",
  "Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=",
  "",
  "P:zlib",
  "V:1.2.12-r1",
  "A:x86_64",
  "L:Zlib",
  "o:zlib",
  "D:so:libc.musl-x86_64.so.1",
  "",
  "P:libcrypto1.1",
  "V:1.1.1n-r0",
  "A:x86_64",
  "o:openssl",
  "F:usr/lib",
  "R:libcrypto.so.1.1",
  "",
  "P:no-origin",
  "V:1-r0",
  "",
  "P:broken-no-version",
  "",
].join("\n");

describe("apk analyzer", () => {
  test("interest: only the installed database", () => {
    expect(interest("lib/apk/db/installed", 10_000)).toBe(true);
    expect(interest("lib/apk/db/installed.old", 10_000)).toBe(false);
    expect(interest("lib/apk/db/installed", 10_000, 100)).toBe(false);
  });

  test("P/V/A and the origin as the source package", () => {
    const packages = analyze("lib/apk/db/installed", Buffer.from(INSTALLED));
    expect(packages.map((pkg) => [pkg.name, pkg.version, pkg.sourceName, pkg.sourceVersion, pkg.arch ?? null])).toEqual([
      ["musl", "1.2.2-r7", "musl", "1.2.2-r7", "x86_64"],
      ["zlib", "1.2.12-r1", "zlib", "1.2.12-r1", "x86_64"],
      ["libcrypto1.1", "1.1.1n-r0", "openssl", "1.1.1n-r0", "x86_64"],
      ["no-origin", "1-r0", "no-origin", "1-r0", null],
    ]);
    expect(packages.every((pkg) => pkg.ecosystem === "Alpine" && pkg.path === "lib/apk/db/installed")).toBe(true);
    expect(packages[2]!.purl).toBe("pkg:apk/alpine/libcrypto1.1@1.1.1n-r0?arch=x86_64");
  });

  test("a repeated name keeps the first entry; no trailing blank line is fine", () => {
    const packages = analyze("lib/apk/db/installed", Buffer.from("P:a\nV:1-r0\n\nP:a\nV:2-r0\n\nP:b\nV:3-r0"));
    expect(packages.map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual(["a@1-r0", "b@3-r0"]);
  });
});
