import fc from "fast-check";

import { fixedVersionFor, isAffected, rangeIncludes } from "../../../../registry/scanning/osv/ranges";
import type { OsvAffected, OsvEvent, OsvRange } from "../../../../registry/scanning/osv/types";
import { InvalidVersionError, comparatorFor } from "../../../../registry/scanning/version";

const semver = comparatorFor("npm").compare;
const dpkg = comparatorFor("Debian").compare;

const semverRange = (...events: OsvEvent[]): OsvRange => ({ type: "SEMVER", events });
const affectedBy = (...ranges: OsvRange[]): OsvAffected => ({ package: { ecosystem: "npm", name: "p" }, ranges });

describe("OSV range evaluation (osv-schema docs/schema.md, Evaluation)", () => {
  it("introduced 0 alone affects every version", () => {
    const a = affectedBy(semverRange({ introduced: "0" }));
    for (const v of ["0.0.0", "0.0.1-alpha", "1.0.0", "99.99.99"]) expect(isAffected(a, v, semver)).toBe(true);
    expect(fixedVersionFor(a, "1.0.0", semver)).toBeUndefined();
  });

  it("introduced 0, fixed 1.0.2: 1.0.1 is affected, 1.0.2 is not", () => {
    const a = affectedBy(semverRange({ introduced: "0" }, { fixed: "1.0.2" }));
    expect(isAffected(a, "1.0.1", semver)).toBe(true);
    expect(isAffected(a, "1.0.2-rc.1", semver)).toBe(true);
    expect(isAffected(a, "1.0.2", semver)).toBe(false);
    expect(isAffected(a, "2.0.0", semver)).toBe(false);
    expect(fixedVersionFor(a, "1.0.1", semver)).toBe("1.0.2");
  });

  it("[1.0.0, 1.0.2) ∪ [3.0.0, 3.2.5) in one range, events in any order", () => {
    const events: OsvEvent[] = [{ fixed: "3.2.5" }, { introduced: "1.0.0" }, { introduced: "3.0.0" }, { fixed: "1.0.2" }];
    const a = affectedBy(semverRange(...events));
    expect(isAffected(a, "0.9.0", semver)).toBe(false);
    expect(isAffected(a, "1.0.1", semver)).toBe(true);
    expect(isAffected(a, "2.0.0", semver)).toBe(false);
    expect(isAffected(a, "3.2.4", semver)).toBe(true);
    expect(isAffected(a, "3.2.5", semver)).toBe(false);
    expect(fixedVersionFor(a, "1.0.1", semver)).toBe("1.0.2");
    expect(fixedVersionFor(a, "3.2.4", semver)).toBe("3.2.5");
  });

  it("last_affected 2.1.214: 2.1.214 is affected, 2.1.215 is not, and there is no fix to report", () => {
    const a = affectedBy(semverRange({ introduced: "0" }, { last_affected: "2.1.214" }));
    expect(isAffected(a, "2.1.214", semver)).toBe(true);
    expect(isAffected(a, "2.1.215", semver)).toBe(false);
    expect(fixedVersionFor(a, "2.1.214", semver)).toBeUndefined();
  });

  it("a limit caps the range; limit * does not", () => {
    const capped = semverRange({ introduced: "1.0.0" }, { limit: "2.0.0" });
    expect(rangeIncludes(capped, "1.5.0", semver)).toBe(true);
    expect(rangeIncludes(capped, "2.0.0", semver)).toBe(false);
    expect(rangeIncludes(semverRange({ introduced: "1.0.0" }, { limit: "*" }), "9.0.0", semver)).toBe(true);
  });

  it("introduced and fixed at the same version affect nothing", () => {
    expect(rangeIncludes(semverRange({ introduced: "1.0.0" }, { fixed: "1.0.0" }), "1.0.0", semver)).toBe(false);
  });

  it("reads versions[] first, and ignores GIT ranges", () => {
    const a: OsvAffected = {
      package: { ecosystem: "PyPI", name: "p" },
      ranges: [{ type: "GIT", repo: "https://example.invalid/p.git", events: [{ introduced: "0" }, { fixed: "abc123" }] }],
      versions: ["1.0", "1.1"],
    };
    const pep440 = comparatorFor("PyPI").compare;
    expect(isAffected(a, "1.1", pep440)).toBe(true);
    expect(isAffected(a, "1.1.0", pep440)).toBe(true);
    expect(isAffected(a, "1.2", pep440)).toBe(false);
    expect(fixedVersionFor(a, "1.1", pep440)).toBeUndefined();
  });

  it("reports the lowest fix that is not itself affected by another range", () => {
    const a = affectedBy(
      semverRange({ introduced: "0" }, { fixed: "1.5.0" }),
      semverRange({ introduced: "1.0.0" }, { fixed: "1.7.0" }),
    );
    expect(isAffected(a, "1.2.0", semver)).toBe(true);
    expect(isAffected(a, "1.5.0", semver)).toBe(true);
    expect(fixedVersionFor(a, "1.2.0", semver)).toBe("1.7.0");
  });

  it("throws the comparator's typed error for an installed version it cannot read", () => {
    const a = affectedBy(semverRange({ introduced: "0" }, { fixed: "1.0.2" }));
    expect(() => isAffected(a, "not-a-version", semver)).toThrow(InvalidVersionError);
  });
});

describe("OSV ranges on real Debian 12 facts (SCANNING.md §7.2)", () => {
  const debian = (name: string, fixed: string): OsvAffected => ({
    package: { ecosystem: "Debian:12", name },
    ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }],
  });

  it("glibc, CVE-2023-4911, fixed in 2.36-9+deb12u3", () => {
    const a = debian("glibc", "2.36-9+deb12u3");
    expect(isAffected(a, "2.36-9+deb12u2", dpkg)).toBe(true);
    expect(isAffected(a, "2.36-9+deb12u3", dpkg)).toBe(false);
    expect(isAffected(a, "2.36-9+deb12u14", dpkg)).toBe(false);
    expect(fixedVersionFor(a, "2.36-9+deb12u2", dpkg)).toBe("2.36-9+deb12u3");
  });

  it("openssh, CVE-2023-48795, fixed in 1:9.2p1-2+deb12u2: 1:9.2p1-2+deb12u6 is not affected (the epoch counts)", () => {
    const a = debian("openssh", "1:9.2p1-2+deb12u2");
    expect(isAffected(a, "1:9.2p1-2+deb12u6", dpkg)).toBe(false);
    expect(isAffected(a, "1:9.2p1-2+deb12u1", dpkg)).toBe(true);
    // Without the epoch the installed version would look older than the fix.
    expect(isAffected(a, "9.2p1-2+deb12u6", dpkg)).toBe(true);
  });

  it("an unfixed DEBIAN-CVE record (introduced 0, no fix) affects every version and has no fix version", () => {
    const a: OsvAffected = { package: { ecosystem: "Debian:12", name: "tiff" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }] };
    expect(isAffected(a, "4.5.0-6+deb12u1", dpkg)).toBe(true);
    expect(fixedVersionFor(a, "4.5.0-6+deb12u1", dpkg)).toBeUndefined();
  });
});

describe("range evaluation agrees with interval membership", () => {
  // Sorted distinct versions become alternating introduced/fixed events; a version is affected exactly when it lies
  // in one of the half-open intervals.
  it("on generated SemVer ranges", () => {
    const version = fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)).map(([a, b, c]) => `${a}.${b}.${c}`);
    fc.assert(
      fc.property(fc.uniqueArray(version, { minLength: 1, maxLength: 6 }), version, fc.boolean(), (points, v, shuffle) => {
        const sorted = [...points].sort(semver);
        const events: OsvEvent[] = sorted.map((p, i) => (i % 2 === 0 ? { introduced: p } : { fixed: p }));
        const expected = sorted.some((p, i) => i % 2 === 0 && semver(v, p) >= 0 && (i + 1 >= sorted.length || semver(v, sorted[i + 1]) < 0));
        const range = semverRange(...(shuffle ? [...events].reverse() : events));
        expect(rangeIncludes(range, v, semver)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
