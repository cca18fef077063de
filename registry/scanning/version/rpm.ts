import { InvalidVersionError, VersionComparator, compareDigits } from "./comparator";

/**
 * RPM versions, ordered as rpm orders them: the epoch numerically, then version and release with rpmvercmp
 * (rpmio/rpmvercmp.c). Used for Red Hat, Rocky Linux and AlmaLinux, whose OSV records write `[epoch:]version-release`.
 */
export interface RpmVersion {
  epoch: string;
  version: string;
  /** null when the string has no `-`: an installed package always has one, a bare upstream version does not. */
  release: string | null;
}

export function parseRpmVersion(text: string): RpmVersion {
  const fail = (reason: string): never => {
    throw new InvalidVersionError("rpm", text, reason);
  };
  if (text === "") fail("version string is empty");
  let epoch = "0";
  let rest = text;
  const colon = text.indexOf(":");
  if (colon >= 0) {
    epoch = text.slice(0, colon);
    rest = text.slice(colon + 1);
    // rpm's own parser takes any digits before the first colon as the epoch; anything else there is not an epoch.
    if (!/^[0-9]+$/.test(epoch)) fail("epoch is not a number");
  }
  const hyphen = rest.lastIndexOf("-");
  if (hyphen < 0) return { epoch, version: rest, release: null };
  return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isAlpha = (c: string | undefined) => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
const isAlnum = (c: string | undefined) => isDigit(c) || isAlpha(c);

/**
 * rpm's rpmvercmp on one version or release string. Characters other than ASCII letters, digits, `~` and `^` only
 * separate segments. `~` sorts before everything, even the end (1.0~rc1 < 1.0); `^` sorts after the end but before
 * any further segment (1.0 < 1.0^git1 < 1.0.1). A numeric segment is newer than an alphabetic one.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== "~" && a[i] !== "^") i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== "~" && b[j] !== "^") j++;

    if (a[i] === "~" || b[j] === "~") {
      if (a[i] !== "~") return 1;
      if (b[j] !== "~") return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === "^" || b[j] === "^") {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== "^") return 1;
      if (b[j] !== "^") return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(a[i]);
    const inSegment = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && inSegment(a[ei])) ei++;
    while (ej < b.length && inSegment(b[ej])) ej++;
    // b has the other kind of segment here: numbers are newer than letters.
    if (ej === j) return numeric ? 1 : -1;
    const x = a.slice(i, ei);
    const y = b.slice(j, ej);
    const r = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (r !== 0) return r;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/**
 * Epoch, then version, then release. rpm itself skips the release when either side lacks one (a dependency on
 * "foo = 1.0" matches every release); here a missing release sorts before any release instead, so that the order
 * stays total and range events sort consistently.
 */
export function compareRpmVersions(a: RpmVersion, b: RpmVersion): -1 | 0 | 1 {
  const byEpoch = compareDigits(a.epoch, b.epoch);
  if (byEpoch !== 0) return byEpoch;
  const byVersion = rpmvercmp(a.version, b.version);
  if (byVersion !== 0) return byVersion;
  if (a.release === null || b.release === null) return a.release === b.release ? 0 : a.release === null ? -1 : 1;
  return rpmvercmp(a.release, b.release);
}

export const rpmComparator: VersionComparator = {
  name: "rpm",
  compare(a, b) {
    return compareRpmVersions(parseRpmVersion(a), parseRpmVersion(b));
  },
  isValid(version) {
    try {
      const v = parseRpmVersion(version);
      // rpm refuses an empty version or release and whitespace anywhere in an EVR.
      return v.version !== "" && v.release !== "" && !/\s/.test(version);
    } catch {
      return false;
    }
  },
};
