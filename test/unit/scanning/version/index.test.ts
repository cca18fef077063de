import fc from "fast-check";

import type { Ecosystem } from "../../../../registry/scanning/inventory";
import {
  InvalidVersionError,
  comparatorFor,
  comparatorForOsvEcosystem,
  goToSemver,
} from "../../../../registry/scanning/version";

describe("comparatorFor picks each ecosystem's ordering", () => {
  it.each<[Ecosystem, string]>([
    ["Debian", "dpkg"],
    ["Ubuntu", "dpkg"],
    ["Alpine", "apk"],
    ["Red Hat", "rpm"],
    ["Rocky Linux", "rpm"],
    ["AlmaLinux", "rpm"],
    ["npm", "semver"],
    ["Go", "go"],
    ["PyPI", "pep440"],
    ["Maven", "maven"],
  ])("%s → %s", (ecosystem, name) => {
    expect(comparatorFor(ecosystem).name).toBe(name);
  });

  it("reads OSV ecosystem strings with a release suffix, and knows no others", () => {
    expect(comparatorForOsvEcosystem("Debian:12")?.name).toBe("dpkg");
    expect(comparatorForOsvEcosystem("Alpine:v3.20")?.name).toBe("apk");
    expect(comparatorForOsvEcosystem("Ubuntu:Pro:18.04:LTS")?.name).toBe("dpkg");
    expect(comparatorForOsvEcosystem("Red Hat:enterprise_linux:9::appstream")?.name).toBe("rpm");
    expect(comparatorForOsvEcosystem("crates.io")).toBeNull();
    expect(comparatorForOsvEcosystem("constructor")).toBeNull();
  });

  it("orders an epoch-carrying Debian fix as dpkg does (CVE-2023-48795: 1:9.2p1-2+deb12u6 is past 1:9.2p1-2+deb12u2)", () => {
    expect(comparatorFor("Debian").compare("1:9.2p1-2+deb12u6", "1:9.2p1-2+deb12u2")).toBe(1);
  });
});

describe("npm: SemVer 2.0 precedence (node-semver test/fixtures/comparisons.js)", () => {
  const npm = comparatorFor("npm");
  it.each([
    ["0.0.0", "0.0.0-foo"],
    ["1.2.3", "1.2.3-asdf"],
    ["1.2.3", "1.2.3-4"],
    ["1.2.3-5-foo", "1.2.3-5"],
    ["1.2.3-a.10", "1.2.3-a.5"],
    ["1.2.3-a.b", "1.2.3-a.5"],
    ["1.2.3-a.b", "1.2.3-a"],
    ["1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"],
    ["1.2.3-r2", "1.2.3-r100"],
    ["1.2.3-r100", "1.2.3-R2"],
    ["0.10.0", "0.9.0"],
    ["3.0.0", "2.7.2+asdf"],
  ])("%s > %s", (a, b) => {
    expect(npm.compare(a, b)).toBe(1);
    expect(npm.compare(b, a)).toBe(-1);
  });

  it("ignores build metadata and refuses what is not SemVer", () => {
    expect(npm.compare("1.2.3+build.1", "1.2.3")).toBe(0);
    expect(() => npm.compare("1.2", "1.2.0")).toThrow(InvalidVersionError);
    expect(npm.isValid("1.2")).toBe(false);
    expect(npm.isValid("4.17.21")).toBe(true);
  });
});

describe("Go module versions", () => {
  const go = comparatorFor("Go");
  it("drops the leading v, treats +incompatible as build metadata and pseudo-versions as pre-releases", () => {
    expect(go.compare("v1.2.3", "1.2.3")).toBe(0);
    expect(go.compare("v2.0.0+incompatible", "2.0.0")).toBe(0);
    expect(go.compare("v2.0.0+incompatible", "1.9.9")).toBe(1);
    expect(go.compare("v0.0.0-20210101000000-abcdefabcdef", "0.0.1")).toBe(-1);
    expect(go.compare("v1.2.4-0.20210101000000-abcdefabcdef", "1.2.3")).toBe(1);
    expect(go.compare("v1.2.4-0.20210101000000-abcdefabcdef", "1.2.4")).toBe(-1);
  });

  it("reads the standard library's toolchain versions", () => {
    expect(goToSemver("go1.21.5")).toBe("1.21.5");
    expect(goToSemver("go1.21")).toBe("1.21.0");
    expect(go.compare("go1.21.5", "1.21.6")).toBe(-1);
    expect(go.isValid("(devel)")).toBe(false);
    expect(() => go.compare("(devel)", "1.0.0")).toThrow(InvalidVersionError);
  });
});

describe("PyPI: PEP 440", () => {
  const pypi = comparatorFor("PyPI");
  it.each([
    ["1.0.dev0", "1.0a1"],
    ["1.0a1", "1.0b1"],
    ["1.0b1", "1.0rc1"],
    ["1.0rc1", "1.0"],
    ["1.0", "1.0.post1"],
    ["1.0", "1!0.1"],
    ["2.31.0", "2.32.3"],
  ])("%s < %s", (a, b) => {
    expect(pypi.compare(a, b)).toBe(-1);
    expect(pypi.compare(b, a)).toBe(1);
  });

  it("treats normalised spellings as equal and refuses what is not PEP 440", () => {
    expect(pypi.compare("1.0", "1.0.0")).toBe(0);
    expect(pypi.compare("1.0RC1", "1.0rc1")).toBe(0);
    expect(() => pypi.compare("not a version", "1.0")).toThrow(InvalidVersionError);
    expect(pypi.isValid("not a version")).toBe(false);
  });

  const pep440Version = fc
    .tuple(
      fc.array(fc.nat(12), { minLength: 1, maxLength: 3 }),
      fc.option(fc.tuple(fc.constantFrom("a", "b", "rc", ".post", ".dev"), fc.nat(3)), { nil: undefined }),
    )
    .map(([release, extra]) => release.join(".") + (extra === undefined ? "" : `${extra[0]}${extra[1]}`));

  it("is antisymmetric and transitive", () => {
    fc.assert(
      fc.property(pep440Version, pep440Version, pep440Version, (a, b, c) => {
        const ab = pypi.compare(a, b);
        expect(pypi.compare(b, a)).toBe(0 - ab);
        const bc = pypi.compare(b, c);
        if (ab <= 0 && bc <= 0) expect(pypi.compare(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 1000 },
    );
  });
});
