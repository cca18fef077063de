import fc from "fast-check";

import { InvalidVersionError } from "../../../../registry/scanning/version/comparator";
import { rpmComparator, rpmvercmp } from "../../../../registry/scanning/version/rpm";

// rpm's own tests/rpmvercmp.at (rpm.vercmp on one version string), as `a b expected`.
const RPMVERCMP = `
1.0 1.0 0
1.0 2.0 -1
2.0.1 2.0.1 0
2.0 2.0.1 -1
2.0.1a 2.0.1a 0
2.0.1a 2.0.1 1
5.5p1 5.5p1 0
5.5p1 5.5p2 -1
5.5p10 5.5p10 0
5.5p1 5.5p10 -1
10xyz 10.1xyz -1
xyz10 xyz10 0
xyz10 xyz10.1 -1
xyz.4 xyz.4 0
xyz.4 8 -1
xyz.4 2 -1
5.5p2 5.6p1 -1
5.6p1 6.5p1 -1
6.0.rc1 6.0 1
10b2 10a1 1
10a2 10b2 -1
1.0aa 1.0aa 0
1.0a 1.0aa -1
10.0001 10.0001 0
10.0001 10.1 0
10.0001 10.0039 -1
4.999.9 5.0 -1
20101121 20101121 0
20101121 20101122 -1
2_0 2_0 0
2.0 2_0 0
a a 0
a+ a+ 0
a+ a_ 0
+a +a 0
+a _a 0
+_ +_ 0
_+ +_ 0
_+ _+ 0
+ _ 0
1.0~rc1 1.0~rc1 0
1.0~rc1 1.0 -1
1.0~rc1 1.0~rc2 -1
1.0~rc1~git123 1.0~rc1~git123 0
1.0~rc1~git123 1.0~rc1 -1
1.0^ 1.0^ 0
1.0^ 1.0 1
1.0^git1 1.0^git1 0
1.0^git1 1.0 1
1.0^git1 1.0^git2 -1
1.0^git1 1.01 -1
1.0^20160101 1.0^20160101 0
1.0^20160101 1.0.1 -1
1.0^20160101^git1 1.0^20160101^git1 0
1.0^20160102 1.0^20160101^git1 1
1.0~rc1^git1 1.0~rc1^git1 0
1.0~rc1^git1 1.0~rc1 1
1.0^git1~pre 1.0^git1~pre 0
1.0^git1 1.0^git1~pre 1
1.1.α 1.1.β 0
`
  .trim()
  .split("\n")
  .map((line) => {
    const [a, b, expected] = line.split(" ");
    return [a, b, Number(expected)] as const;
  });

// Whole [epoch:]version-release strings, as Red Hat's OSV records and rpm -q write them.
const EVR = `
0:1 1:1 -1
1:1 1:1 0
0:1~1 1:2 -1
3:1~1 1:2 1
1~1 1:2 -1
3 1:2 -1
13:5 14:2 -1
13:5 004:2 1
01:2 1:2 0
1-123 1-2 1
1-2 1-1 1
1 1-1 -1
1-123 1-1.el7 1
0:3.10.0-229.el7 0:3.10.0-229.1.2.ael7b -1
0:2.4.21-9.EL 0:2.4.21-9.0.1.EL -1
1-1 1-1.1 -1
1-1.ael7b 1-1.el7 -1
0:3.10.0-229.1.2.ael7b 0:3.10.0-229.4.2.ael7b -1
1:3.0.7-27.el9 1:3.0.7-25.el9_3 1
1:3.0.7-27.el9 3.0.7-28.el9 1
2.34-100.el9_4.2 2.34-100.el9 1
2.34-83.el9_3.12 2.34-100.el9 -1
`
  .trim()
  .split("\n")
  .map((line) => {
    const [a, b, expected] = line.split(" ");
    return [a, b, Number(expected)] as const;
  });

describe("rpm version order", () => {
  it.each(RPMVERCMP)("rpmvercmp(%s, %s) = %d, and the reverse", (a, b, expected) => {
    expect(rpmvercmp(a, b)).toBe(expected);
    expect(rpmvercmp(b, a)).toBe(0 - expected);
  });

  it.each(EVR)("%s vs %s → %d, and the reverse", (a, b, expected) => {
    expect(rpmComparator.compare(a, b)).toBe(expected);
    expect(rpmComparator.compare(b, a)).toBe(0 - expected);
  });

  it("refuses an epoch that is not a number", () => {
    expect(() => rpmComparator.compare("a:1.0-1", "1.0-1")).toThrow(InvalidVersionError);
    expect(rpmComparator.isValid("a:1.0-1")).toBe(false);
    expect(rpmComparator.isValid("")).toBe(false);
    expect(rpmComparator.isValid("1.0-")).toBe(false);
    expect(rpmComparator.isValid("1:1.0-1.el9")).toBe(true);
    expect(rpmComparator.isValid("2.34")).toBe(true);
  });

  const rpmVersion = fc
    .tuple(
      fc.option(fc.nat(3), { nil: undefined }),
      fc.stringMatching(/^[0-9a-z][0-9a-z.~^]{0,6}$/),
      fc.option(fc.stringMatching(/^[0-9][0-9a-z._]{0,5}$/), { nil: undefined }),
    )
    .map(([epoch, v, r]) => `${epoch === undefined ? "" : `${epoch}:`}${v}${r === undefined ? "" : `-${r}`}`);

  it("is antisymmetric and transitive", () => {
    fc.assert(
      fc.property(rpmVersion, rpmVersion, rpmVersion, (a, b, c) => {
        const ab = rpmComparator.compare(a, b);
        expect(rpmComparator.compare(b, a)).toBe(0 - ab);
        const bc = rpmComparator.compare(b, c);
        if (ab <= 0 && bc <= 0) expect(rpmComparator.compare(a, c)).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(rpmComparator.compare(a, c)).toBe(0);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
