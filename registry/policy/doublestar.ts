import picomatch from "picomatch";

/**
 * picomatch set up to read patterns as Go's doublestar does (Harbor's matcher, so rules carry over unchanged): a
 * leading `!` and `@(…)`-style groups are plain characters, and `[!a]` negates a class like `[^a]`.
 */
const DOUBLESTAR = { dot: true, nonegate: true, noextglob: true, posix: true } as const;

/** Whether `value` matches the doublestar `pattern`. */
export function globMatches(value: string, pattern: string): boolean {
  return picomatch.isMatch(value, pattern, DOUBLESTAR);
}

/** A reusable matcher for `pattern`. */
export function globMatcher(pattern: string): (value: string) => boolean {
  return picomatch(pattern, DOUBLESTAR);
}

/** Throws when `pattern` cannot be compiled. */
export function compileGlob(pattern: string): void {
  picomatch.makeRe(pattern, DOUBLESTAR);
}
