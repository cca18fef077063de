import fc from "fast-check";

import { InvalidVersionError } from "../../../../registry/scanning/version/comparator";
import { dpkgComparator, parseDpkgVersion } from "../../../../registry/scanning/version/dpkg";

// `a b expected`, from dpkg's scripts/t/Dpkg_Version.t (__DATA__) and real Debian 12 strings checked against
// `dpkg --compare-versions` (SCANNING.md §3.1).
const VECTORS = `
1.0-1 2.0-2 -1
2.2~rc-4 2.2-1 -1
2.2-1 2.2~rc-4 1
1.0000-1 1.0-1 0
1 0:1 0
0 0:0-0 0
2:2.5 1:7.5 1
1:0foo 0foo 1
0:0foo 0foo 0
0foo 0fo 1
0foo~1 0foo -1
0foo~foo+Bar 0foo~foo+bar -1
0foo~~ 0foo~ -1
1~ 1 -1
0foo-0 0foo-01 -1
0foo.bar 0foobar 1
0foo.bar 0foo1bar 1
0foo.bar 0foo0bar 1
0foo1bar-1 0foobar-1 -1
0foo2.0 0foo2 1
0foo2.0.0 0foo2.10.0 -1
0foo2.0 0foo2.0.0 -1
0foo2.1 0foo2.10 -1
1.09 1.9 0
1.0.8+nmu1 1.0.8 1
3.11 3.10+nmu1 1
0.9j-20080306-4 0.9i-20070324-2 1
1.2.0~b7-1 1.2.0~b6-1 1
1.011-1 1.06-2 1
0.0.9+dfsg1-1 0.0.8+dfsg1-3 1
4.6.99+svn6582-1 4.6.99+svn6496-1 1
53 52 1
0.9.9~pre122-1 0.9.9~pre111-1 1
2:2.3.2-2+lenny2 2:2.3.2-2 1
1:3.8.1-1 3.8.GA-1 1
1.0.1+gpl-1 1.0.1-2 1
1a 1000a -1
12345+that-really-is-some-ver-0 12345+that-really-is-some-ver-10 -1
-0.6.5 0.9.1 -1
0foo- 0foo 0
0foo- 0foo-0 0
0foo- 0foo+ -1
5.6.1+really5.4.5-1 5.6.1-1 1
5.2.15-2+b8 5.2.15-2 1
2.36-9+deb12u14 2.36-9+deb12u3 1
1:9.2p1-2+deb12u6 1:9.2p1-2+deb12u3 1
20250419~deb12u2 20250419 -1
3.0.19-1~deb12u2 3.0.19-1 -1
1.14.10-1~deb12u1 1.14.10-1~deb11u1 1
`
  .trim()
  .split("\n")
  .map((line) => {
    const [a, b, expected] = line.split(" ");
    return [a, b, Number(expected)] as const;
  });

describe("dpkg version order", () => {
  it("has all the vectors of SCANNING.md §3.1", () => {
    expect(VECTORS).toHaveLength(49);
  });

  it.each(VECTORS)("%s vs %s → %d, and the reverse", (a, b, expected) => {
    expect(dpkgComparator.compare(a, b)).toBe(expected);
    expect(dpkgComparator.compare(b, a)).toBe(0 - expected);
  });

  it("splits epoch, upstream and revision as dpkg's parseversion does", () => {
    expect(parseDpkgVersion("0:0-0-0")).toEqual({ epoch: 0, upstream: "0-0", revision: "0" });
    expect(parseDpkgVersion("0:0:0-0")).toEqual({ epoch: 0, upstream: "0:0", revision: "0" });
    expect(parseDpkgVersion(" 1:2.36-9+deb12u3 ")).toEqual({ epoch: 1, upstream: "2.36", revision: "9+deb12u3" });
    expect(parseDpkgVersion("2.36")).toEqual({ epoch: 0, upstream: "2.36", revision: "" });
  });

  it.each(["", "  ", "-1:1.0", "a:1.0", "0:", ":1.0", "99999999999:1.0", "1.0 1", "0:0 0-1"])(
    "refuses %j with a typed error",
    (text) => {
      expect(() => parseDpkgVersion(text)).toThrow(InvalidVersionError);
      expect(() => dpkgComparator.compare(text, "1.0")).toThrow(InvalidVersionError);
      expect(dpkgComparator.isValid(text)).toBe(false);
    },
  );

  it("calls valid what dpkg accepts without a warning", () => {
    for (const v of ["1.0", "1:9.2p1-2+deb12u6", "2.2~rc-4", "12345+that-really-is-some-ver-0", "0:0:0-0"]) {
      expect(dpkgComparator.isValid(v)).toBe(true);
    }
    // empty revision, empty upstream, no leading digit, bad characters
    for (const v of ["0foo-", "-0.6.5", "foo1.0", "1.0_1", "1.0-1:2"]) expect(dpkgComparator.isValid(v)).toBe(false);
  });

  const dpkgVersion = fc
    .tuple(
      fc.option(fc.nat(3), { nil: undefined }),
      fc.stringMatching(/^[0-9][0-9a-zA-Z.+~]{0,6}$/),
      fc.option(fc.stringMatching(/^[0-9a-z.+~]{1,4}$/), { nil: undefined }),
    )
    .map(([epoch, up, rev]) => `${epoch === undefined ? "" : `${epoch}:`}${up}${rev === undefined ? "" : `-${rev}`}`);

  it("is antisymmetric and transitive", () => {
    fc.assert(
      fc.property(dpkgVersion, dpkgVersion, dpkgVersion, (a, b, c) => {
        const ab = dpkgComparator.compare(a, b);
        expect(dpkgComparator.compare(b, a)).toBe(0 - ab);
        const bc = dpkgComparator.compare(b, c);
        if (ab <= 0 && bc <= 0) expect(dpkgComparator.compare(a, c)).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(dpkgComparator.compare(a, c)).toBe(0);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
