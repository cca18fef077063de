/**
 * The contract every ecosystem's version ordering meets (issue 16). Matching sorts OSV range events and compares the
 * installed version with them, so a comparator must be a total order on the strings it accepts.
 */
export interface VersionComparator {
  /** Which ordering this is ("dpkg", "apk", "rpm", "semver", "go", "pep440", "maven"), for logs and reports. */
  readonly name: string;
  /**
   * -1 when a sorts before b, 0 when the ecosystem treats them as the same version, 1 otherwise.
   * Throws InvalidVersionError when a string cannot be read at all; strings the ecosystem's own tools still order
   * (an apk version with an unknown suffix, a dpkg version with an empty revision) are compared as those tools do.
   */
  compare(a: string, b: string): -1 | 0 | 1;
  /** Whether the ecosystem's tools accept the string as a version without complaint. */
  isValid(version: string): boolean;
}

/** A version string that an ordering cannot read. Carries the string and the reason, never a stack-worthy bug. */
export class InvalidVersionError extends Error {
  override readonly name = "InvalidVersionError";
  constructor(
    readonly ordering: string,
    readonly version: string,
    readonly reason: string,
  ) {
    super(`invalid ${ordering} version ${JSON.stringify(version)}: ${reason}`);
  }
}

/** Maps any signed number to the -1 | 0 | 1 the contract promises. */
export function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compares two strings of decimal digits of any length without converting them (no overflow, no precision loss). */
export function compareDigits(a: string, b: string): -1 | 0 | 1 {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
