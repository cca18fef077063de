import fc from "fast-check";

import { apkComparator } from "../../../../registry/scanning/version/apk";

// From apk-tools test/unit/version.data (SCANNING.md §3.2, and as google/osv-scanner's alpine-versions.txt holds
// it): `a op b`.
const VECTORS = `
1.1 > 1.1_alpha1
0.1.0_alpha_pre2 < 0.1.0_alpha
1.3_alpha2 < 1.3_alpha3
2.3.0b-r1 < 2.3.0b-r2
2.5.1-r8 < 2.5.1a-r1
1.0.4-r3 < 1.0.4-r4
3.1_p16 < 3.1_p17
1.0_p10-r0 > 1.0_p9-r0
6.0_p1 > 6.0
6.0_pre1 < 6.0
1.06-r6 < 006
006 > 1.0.0
8.2.0 < 8.2.001
8.2.0015 < 8.2.002
2.01.01_alpha10 > 0.94
1.3_pre1-r1 < 1.3.2
0.10.1_rc1 > 0.9.11
1.0~1234 < 1.0~2345
1.0~1234-r1 > 1.0~1234-r0
20060720 > 3.0.20060720
1.0 < 1.0bc
1.23 < 1.23-r1
4.5_p1 < 4.5_p1-r1
1.2.9.1-r1 > 1.2.9.1
2.10.1 > 02.08.01b
1.2.07.8 < 1.2.12.04
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
0.9.28.1 < 087-r1
2.12r-r4 < 2.12r-r5
23_foo > 4_beta
1.7 < 1.7b
3.9_pre20060124 > 0.01
0.20070118 < 0.20070207_rc1
`
  .trim()
  .split("\n")
  .map((line) => {
    const [a, op, b] = line.split(" ");
    return [a, op, b, op === "<" ? -1 : op === ">" ? 1 : 0] as const;
  });

// Suffix ranks, pre-releases below the plain version and post-releases above it.
const SUFFIX_CHAIN = ["1.0_alpha", "1.0_beta", "1.0_pre", "1.0_rc", "1.0", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p"];

describe("apk version order", () => {
  it.each(VECTORS)("%s %s %s", (a, _op, b, expected) => {
    expect(apkComparator.compare(a, b)).toBe(expected);
    expect(apkComparator.compare(b, a)).toBe(0 - expected);
  });

  it("orders the suffixes alpha < beta < pre < rc < none < cvs < svn < git < hg < p", () => {
    for (let i = 0; i + 1 < SUFFIX_CHAIN.length; i++) {
      expect(apkComparator.compare(SUFFIX_CHAIN[i], SUFFIX_CHAIN[i + 1])).toBe(-1);
    }
  });

  it("orders real Alpine fixes: bind 9.16.48-r0 fixes 9.16.47-r0 and 9.16.4-r0", () => {
    expect(apkComparator.compare("9.16.47-r0", "9.16.48-r0")).toBe(-1);
    expect(apkComparator.compare("9.16.4-r0", "9.16.48-r0")).toBe(-1);
    expect(apkComparator.compare("9.16.48-r1", "9.16.48-r0")).toBe(1);
  });

  it.each(["1.0", "0.1_pre2~1234abcd", "1.2.3_p1_git20240101-r10", "2.3.0b-r1", "20060720"])("accepts %s", (v) => {
    expect(apkComparator.isValid(v)).toBe(true);
  });

  it.each(["0.1bc", "0.1a1", "0.1_foobar", "0.1-r2_pre1", "0.1-r2-r3", ".1", "a", "0.1_", "", "1.0-r", "1.0A"])(
    "refuses %j",
    (v) => {
      expect(apkComparator.isValid(v)).toBe(false);
    },
  );

  const apkVersion = fc
    .tuple(
      fc.array(fc.stringMatching(/^[0-9]{1,3}$/), { minLength: 1, maxLength: 4 }),
      fc.option(fc.constantFrom("a", "b", "z"), { nil: "" }),
      fc.array(fc.tuple(fc.constantFrom("alpha", "rc", "p", "git"), fc.option(fc.nat(20), { nil: undefined })), {
        maxLength: 2,
      }),
      fc.option(fc.stringMatching(/^[0-9a-f]{1,4}$/), { nil: undefined }),
      fc.option(fc.nat(12), { nil: undefined }),
    )
    .map(
      ([digits, letter, suffixes, hash, rev]) =>
        digits.join(".") +
        letter +
        suffixes.map(([s, n]) => `_${s}${n ?? ""}`).join("") +
        (hash === undefined ? "" : `~${hash}`) +
        (rev === undefined ? "" : `-r${rev}`),
    );

  it("generates valid versions for the order checks", () => {
    fc.assert(fc.property(apkVersion, (v) => apkComparator.isValid(v)));
  });

  it("is antisymmetric and transitive", () => {
    fc.assert(
      fc.property(apkVersion, apkVersion, apkVersion, (a, b, c) => {
        const ab = apkComparator.compare(a, b);
        expect(apkComparator.compare(b, a)).toBe(0 - ab);
        const bc = apkComparator.compare(b, c);
        if (ab <= 0 && bc <= 0) expect(apkComparator.compare(a, c)).toBeLessThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(apkComparator.compare(a, c)).toBe(0);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
