import { VersionComparator, compareDigits } from "./comparator";

/**
 * Alpine package versions, ordered as apk-tools 3.x orders them (src/version.c):
 * digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]. apk orders even malformed strings (the part it cannot read
 * counts as one "invalid" token), so `compare` never throws; `isValid` says whether apk would accept the string.
 */

// Token kinds in apk's order. When two versions first differ in kind, the higher kind sorts lower
// (so 1.0 < 1.0.1 because END > DIGIT), except for the pre-release suffixes handled in `compareTokens`.
enum Kind {
  InitialDigit,
  Digit,
  Letter,
  Suffix,
  SuffixNo,
  CommitHash,
  RevisionNo,
  End,
  Invalid,
}

interface Token {
  kind: Kind;
  text: string;
}

// Suffixes before "no suffix" mark pre-releases (1.0_rc1 < 1.0); the rest mark post-releases (1.0_p1 > 1.0).
const PRE_SUFFIXES = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES = ["cvs", "svn", "git", "hg", "p"];

function suffixRank(word: string): number {
  const pre = PRE_SUFFIXES.indexOf(word);
  return pre >= 0 ? pre - PRE_SUFFIXES.length : POST_SUFFIXES.indexOf(word) + 1;
}

/** Splits a version into tokens; the list always ends with one End or Invalid token. */
export function tokenizeApkVersion(version: string): Token[] {
  const tokens: Token[] = [];
  let rest = version;
  let previous = null as Kind | null;
  const push = (kind: Kind, text: string, length: number) => {
    tokens.push({ kind, text });
    rest = rest.slice(length);
    previous = kind;
  };
  const afterDigits = () => previous === Kind.InitialDigit || previous === Kind.Digit;
  for (;;) {
    if (rest === "") {
      tokens.push({ kind: Kind.End, text: "" });
      return tokens;
    }
    let m: RegExpMatchArray | null;
    if (previous === null && (m = /^[0-9]+/.exec(rest))) {
      push(Kind.InitialDigit, m[0], m[0].length);
    } else if (afterDigits() && (m = /^\.([0-9]+)/.exec(rest))) {
      push(Kind.Digit, m[1], m[0].length);
    } else if (afterDigits() && /^[a-z]/.test(rest)) {
      push(Kind.Letter, rest[0], 1);
    } else if (previous !== null && previous <= Kind.SuffixNo && (m = /^_([a-z]+)/.exec(rest)) && suffixRank(m[1]) !== 0) {
      push(Kind.Suffix, m[1], m[0].length);
    } else if (previous === Kind.Suffix && (m = /^[0-9]+/.exec(rest))) {
      push(Kind.SuffixNo, m[0], m[0].length);
    } else if (previous !== null && previous < Kind.CommitHash && (m = /^~([0-9a-f]+)/.exec(rest))) {
      push(Kind.CommitHash, m[1], m[0].length);
    } else if (previous !== null && previous < Kind.RevisionNo && (m = /^-r([0-9]+)/.exec(rest))) {
      push(Kind.RevisionNo, m[1], m[0].length);
    } else {
      tokens.push({ kind: Kind.Invalid, text: rest });
      return tokens;
    }
  }
}

function compareText(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSameKind(kind: Kind, a: string, b: string): -1 | 0 | 1 {
  switch (kind) {
    case Kind.InitialDigit:
    case Kind.SuffixNo:
    case Kind.RevisionNo:
      return compareDigits(a, b);
    case Kind.Digit:
      // A component with a leading zero is a fraction-like string (8.2.0015 < 8.2.002): compare as text, and on a
      // tie over the shorter length the shorter one is smaller, which plain string order already gives.
      if (a.startsWith("0") || b.startsWith("0")) return compareText(a, b);
      return compareDigits(a, b);
    case Kind.Suffix:
      return Math.sign(suffixRank(a) - suffixRank(b)) as -1 | 0 | 1;
    default:
      return compareText(a, b);
  }
}

function isPreSuffix(t: Token): boolean {
  return t.kind === Kind.Suffix && suffixRank(t.text) < 0;
}

export function compareApkVersions(a: string, b: string): -1 | 0 | 1 {
  const ta = tokenizeApkVersion(a);
  const tb = tokenizeApkVersion(b);
  let i = 0;
  while (ta[i].kind === tb[i].kind && ta[i].kind < Kind.End) {
    const r = compareSameKind(ta[i].kind, ta[i].text, tb[i].text);
    if (r !== 0) return r;
    i++;
  }
  const x = ta[i];
  const y = tb[i];
  if (x.kind === y.kind) return 0;
  if (isPreSuffix(x)) return -1;
  if (isPreSuffix(y)) return 1;
  return x.kind > y.kind ? -1 : 1;
}

export const apkComparator: VersionComparator = {
  name: "apk",
  compare: compareApkVersions,
  isValid(version) {
    const tokens = tokenizeApkVersion(version);
    return tokens[tokens.length - 1].kind === Kind.End && tokens.length > 1;
  },
};
