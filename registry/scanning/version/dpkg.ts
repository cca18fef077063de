import { InvalidVersionError, VersionComparator, sign } from "./comparator";

/**
 * Debian package versions, ordered as dpkg orders them (lib/dpkg/version.c and parsehelp.c): [epoch:]upstream[-revision].
 * Used for the Debian and Ubuntu ecosystems, where OSV compares the source package's version with its epoch.
 */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  /** Empty when the version has no `-`; dpkg treats an empty revision as `0`. */
  revision: string;
}

// dpkg stores the epoch in an int and refuses anything larger.
const MAX_EPOCH = 2147483647;

/**
 * Splits a version as dpkg's parseversion does. Throws InvalidVersionError for what dpkg refuses outright (empty,
 * embedded spaces, a bad epoch, nothing after the colon). An empty upstream part or revision (`-1.0`, `1.0-`) is
 * kept and ordered as Perl's Dpkg::Version orders it; dpkg itself rejects those, so `isValid` says false for them.
 */
export function parseDpkgVersion(text: string): DpkgVersion {
  const fail = (reason: string): never => {
    throw new InvalidVersionError("dpkg", text, reason);
  };
  const trimmed = text.trim();
  if (trimmed === "") fail("version string is empty");
  if (/\s/.test(trimmed)) fail("version string has embedded spaces");

  let epoch = 0;
  let rest = trimmed;
  const colon = trimmed.indexOf(":");
  if (colon >= 0) {
    const epochText = trimmed.slice(0, colon);
    if (epochText === "") fail("epoch in version is empty");
    if (epochText.startsWith("-")) fail("epoch in version is negative");
    if (!/^[0-9]+$/.test(epochText)) fail("epoch in version is not number");
    epoch = Number(epochText);
    if (epoch > MAX_EPOCH) fail("epoch in version is too big");
    rest = trimmed.slice(colon + 1);
    if (rest === "") fail("nothing after colon in version number");
  }
  const hyphen = rest.lastIndexOf("-");
  if (hyphen < 0) return { epoch, upstream: rest, revision: "" };
  return { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isLetter(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

// The weight of one character in a non-digit run: `~` before the end of the string, the end before letters,
// letters before everything else. "" stands for the end of the string.
function order(c: string): number {
  if (c === "" || isDigit(c)) return 0;
  if (isLetter(c)) return c.charCodeAt(0);
  if (c === "~") return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit runs (by `order`) and digit runs (numerically), on upstream or revision. */
export function verrevcmp(a: string, b: string): -1 | 0 | 1 {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i] ?? "");
      const bc = order(b[j] ?? "");
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    let firstDiff = 0;
    while (i < a.length && j < b.length && isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i])) return 1;
    if (j < b.length && isDigit(b[j])) return -1;
    if (firstDiff !== 0) return sign(firstDiff);
  }
  return 0;
}

export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
}

const UPSTREAM_CHARS = /^[A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]*$/;

export const dpkgComparator: VersionComparator = {
  name: "dpkg",
  compare(a, b) {
    return compareDpkgVersions(parseDpkgVersion(a), parseDpkgVersion(b));
  },
  isValid(version) {
    let parsed: DpkgVersion;
    try {
      parsed = parseDpkgVersion(version);
    } catch {
      return false;
    }
    // What dpkg warns about (a first character that is not a digit, characters outside the allowed sets) or
    // refuses (an empty upstream part, an empty revision after a `-`).
    return (
      parsed.upstream !== "" &&
      isDigit(parsed.upstream[0]) &&
      UPSTREAM_CHARS.test(parsed.upstream) &&
      REVISION_CHARS.test(parsed.revision) &&
      !version.trim().endsWith("-")
    );
  },
};
