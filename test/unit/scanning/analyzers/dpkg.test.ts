import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { analyze, interest, paragraphs } from "../../../../registry/scanning/analyzers/dpkg";
import { testIf } from "../../../support/tools";

const HOST_STATUS = "/var/lib/dpkg/status";

describe("dpkg analyzer: interest", () => {
  test.each([
    ["var/lib/dpkg/status", true],
    ["var/lib/dpkg/status.d/base", true],
    ["var/lib/dpkg/status.d/libssl3", true],
    ["var/lib/dpkg/status.d/libssl3.md5sums", false],
    ["var/lib/dpkg/status-old", false],
    ["var/lib/dpkg/available", false],
    ["var/lib/dpkg/status.d/sub/x", false],
  ])("%s → %s", (path, wanted) => {
    expect(interest(path, 1000)).toBe(wanted);
  });
});

describe("dpkg analyzer: analyze", () => {
  test("installed packages only; Source with and without a version; continuation lines; CRLF", () => {
    const status = [
      "Package: libc6",
      "Status: install ok installed",
      "Architecture: amd64",
      "Source: glibc",
      "Version: 2.36-9+deb12u2",
      "Description: GNU C Library",
      " a continuation line: with a colon",
      "",
      "Package: bash",
      "Status: install ok installed",
      "Architecture: amd64",
      "Source: bash (5.2.15-2)",
      "Version: 5.2.15-2+b8",
      "",
      "",
      "Package: removed",
      "Status: deinstall ok config-files",
      "Version: 1.0-1",
      "",
      "Package: held",
      "Status: hold ok installed",
      "Architecture: all",
      "Version: 1:2.0-1",
      "",
    ].join("\r\n");
    const packages = analyze("var/lib/dpkg/status", Buffer.from(status));
    expect(packages).toEqual([
      { ecosystem: "Debian", name: "libc6", version: "2.36-9+deb12u2", sourceName: "glibc", sourceVersion: "2.36-9+deb12u2", arch: "amd64", path: "var/lib/dpkg/status", purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u2?arch=amd64" },
      { ecosystem: "Debian", name: "bash", version: "5.2.15-2+b8", sourceName: "bash", sourceVersion: "5.2.15-2", arch: "amd64", path: "var/lib/dpkg/status", purl: "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64" },
      { ecosystem: "Debian", name: "held", version: "1:2.0-1", sourceName: "held", sourceVersion: "1:2.0-1", arch: "all", path: "var/lib/dpkg/status", purl: "pkg:deb/debian/held@2.0-1?arch=all&epoch=1" },
    ]);
    expect(paragraphs(status)[0]!.get("description")).toBe("GNU C Library\na continuation line: with a colon");
  });

  test("a distroless status.d file has no Status field: its package counts", () => {
    const packages = analyze("var/lib/dpkg/status.d/libssl3", Buffer.from("Package: libssl3\nVersion: 3.0.19-1~deb12u2\nArchitecture: amd64\nSource: openssl\n"));
    expect(packages.map((pkg) => [pkg.name, pkg.sourceName, pkg.path])).toEqual([["libssl3", "openssl", "var/lib/dpkg/status.d/libssl3"]]);
  });

  testIf(existsSync(HOST_STATUS), "a Debian host's /var/lib/dpkg/status")("this machine's real status file (Debian 12): the packages, sources and source versions dpkg-query lists", () => {
    const packages = analyze("var/lib/dpkg/status", readFileSync(HOST_STATUS));
    const format = "${Package}:${Architecture} ${Version} ${source:Package} ${source:Version}\n";
    const listed = execFileSync("dpkg-query", ["-W", "-f", format], { encoding: "utf8" }).trim().split("\n");
    expect(packages.length).toBe(listed.length);
    expect(new Set(packages.map((pkg) => `${pkg.name}:${pkg.arch} ${pkg.version} ${pkg.sourceName} ${pkg.sourceVersion}`))).toEqual(new Set(listed));
    const libc6 = packages.find((pkg) => pkg.name === "libc6")!;
    expect(libc6.sourceName).toBe("glibc");
    expect(libc6.sourceVersion).toBe(libc6.version);
  });
});
