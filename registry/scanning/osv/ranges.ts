import type { OsvAffected, OsvEvent, OsvRange } from "./types";

/** Any version ordering: negative when a sorts before b, 0 when equal, positive after. */
export type CompareVersions = (a: string, b: string) => number;

// Event versions that do not go through the comparator: "introduced 0" is before every version (and is not a
// version at all for SemVer or PEP 440), "limit *" is after every version.
const LOWEST = Symbol("lowest");
const HIGHEST = Symbol("highest");
type Point = string | typeof LOWEST | typeof HIGHEST;

interface SortedEvent {
  kind: "introduced" | "fixed" | "last_affected" | "limit";
  at: Point;
}

// On equal versions `introduced` comes first, so "introduced X, fixed X" affects nothing.
const KIND_ORDER = { introduced: 0, fixed: 1, last_affected: 2, limit: 3 } as const;

function comparePoints(a: Point, b: Point, compare: CompareVersions): number {
  if (a === b) return 0;
  if (a === LOWEST || b === HIGHEST) return -1;
  if (a === HIGHEST || b === LOWEST) return 1;
  return compare(a, b);
}

function readEvent(event: OsvEvent): SortedEvent | null {
  if (event.introduced !== undefined) return { kind: "introduced", at: event.introduced === "0" ? LOWEST : event.introduced };
  if (event.fixed !== undefined) return { kind: "fixed", at: event.fixed };
  if (event.last_affected !== undefined) return { kind: "last_affected", at: event.last_affected };
  if (event.limit !== undefined) return { kind: "limit", at: event.limit === "*" ? HIGHEST : event.limit };
  return null;
}

/** Whether the scanner can place versions in this range: SEMVER and ECOSYSTEM can, GIT (commit hashes) cannot. */
export function isComparableRange(range: OsvRange): boolean {
  return range.type === "SEMVER" || range.type === "ECOSYSTEM";
}

/**
 * OSV's "Evaluation" for one SEMVER or ECOSYSTEM range: the version must be below some `limit` (when there are
 * any), then the events, sorted, switch "affected" on at `introduced` and off at `fixed` or after `last_affected`.
 * Throws the comparator's InvalidVersionError when the version or an event's version cannot be read.
 */
export function rangeIncludes(range: OsvRange, version: string, compare: CompareVersions): boolean {
  const events = range.events.map(readEvent).filter((e): e is SortedEvent => e !== null);
  const limits = events.filter((e) => e.kind === "limit");
  if (limits.length > 0 && !limits.some((l) => comparePoints(version, l.at, compare) < 0)) return false;

  events.sort((a, b) => comparePoints(a.at, b.at, compare) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  let affected = false;
  for (const e of events) {
    const c = comparePoints(version, e.at, compare);
    if (e.kind === "introduced" && c >= 0) affected = true;
    else if (e.kind === "fixed" && c >= 0) affected = false;
    else if (e.kind === "last_affected" && c > 0) affected = false;
  }
  return affected;
}

function listed(affected: OsvAffected, version: string, compare: CompareVersions): boolean {
  return (affected.versions ?? []).some((listedVersion) => {
    if (listedVersion === version) return true;
    try {
      return compare(listedVersion, version) === 0;
    } catch {
      // A listed string the ordering cannot read can still match by spelling, which was checked above.
      return false;
    }
  });
}

/**
 * Whether one `affected[]` entry covers the installed version: listed in `versions[]`, or inside any SEMVER or
 * ECOSYSTEM range. GIT ranges are ignored (their versions may still be listed in `versions[]`). `compare` is the
 * package ecosystem's ordering (comparatorFor); it is also used for SEMVER ranges, which only npm and Go use.
 */
export function isAffected(affected: OsvAffected, version: string, compare: CompareVersions): boolean {
  if (listed(affected, version, compare)) return true;
  return (affected.ranges ?? []).some((range) => isComparableRange(range) && rangeIncludes(range, version, compare));
}

/**
 * The version to show as Harbor's fix_version: the lowest `fixed` event above the installed version that is not
 * itself affected by another range of the same entry. undefined when there is none (unfixed, or only
 * `last_affected`).
 */
export function fixedVersionFor(affected: OsvAffected, version: string, compare: CompareVersions): string | undefined {
  const candidates = (affected.ranges ?? [])
    .filter(isComparableRange)
    .flatMap((range) => range.events.map((e) => e.fixed))
    .filter((fixed): fixed is string => fixed !== undefined && compare(fixed, version) > 0)
    .sort(compare);
  return candidates.find((fixed) => !isAffected(affected, fixed, compare));
}
