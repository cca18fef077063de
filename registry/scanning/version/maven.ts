import { VersionComparator, compareDigits } from "./comparator";

/**
 * Maven versions, ordered as Maven's ComparableVersion orders them (maven-artifact, the 3.x algorithm before 3.9's
 * "combination" items, with 3.9's `release` alias): the string splits on `.`, `-` and digit/letter changes into
 * numbers, qualifiers and nested lists; trailing nulls (0, "", "ga", "final", "release") are dropped; known
 * qualifiers order as alpha < beta < milestone < rc = cr < snapshot < (release) < sp, and unknown qualifiers sort
 * after all of them, alphabetically. Any string is a Maven version, so `compare` never throws.
 */
type Item = { kind: "int"; value: string } | { kind: "string"; value: string } | { kind: "list"; items: Item[] };

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(""));

function stringItem(text: string, followedByDigit: boolean): Item {
  let value = text;
  if (followedByDigit && value.length === 1) {
    // 1a1 = 1-alpha-1, 1b2 = 1-beta-2, 1m3 = 1-milestone-3
    value = value === "a" ? "alpha" : value === "b" ? "beta" : value === "m" ? "milestone" : value;
  }
  return { kind: "string", value: ALIASES[value] ?? value };
}

function parseItem(isDigit: boolean, text: string): Item {
  return isDigit ? { kind: "int", value: text.replace(/^0+/, "") || "0" } : stringItem(text, false);
}

function isNull(item: Item): boolean {
  if (item.kind === "int") return item.value === "0";
  if (item.kind === "string") return item.value === "";
  return item.items.length === 0;
}

// Drops null items from the end of a list, looking past trailing sub-lists (1.0-alpha → [1, [alpha]]).
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i];
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== "list") break;
  }
}

export function parseMavenVersion(version: string): Item {
  const text = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const lists: Item[][] = [root];
  const openList = () => {
    const items: Item[] = [];
    list.push({ kind: "list", items });
    list = items;
    lists.push(items);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "." || c === "-") {
      list.push(i === start ? { kind: "int", value: "0" } : parseItem(isDigit, text.slice(start, i)));
      start = i + 1;
      if (c === "-") openList();
    } else if (c >= "0" && c <= "9") {
      if (!isDigit && i > start) {
        list.push(stringItem(text.slice(start, i), true));
        start = i;
        openList();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, text.slice(start, i)));
        start = i;
        openList();
      }
      isDigit = false;
    }
  }
  if (text.length > start) list.push(parseItem(isDigit, text.slice(start)));
  // Innermost lists first, as Maven pops its stack, so an emptied sub-list counts as null in its parent.
  for (let i = lists.length - 1; i >= 0; i--) normalize(lists[i]);
  return { kind: "list", items: root };
}

function qualifierKey(value: string): string {
  const index = QUALIFIERS.indexOf(value);
  return index >= 0 ? String(index) : `${QUALIFIERS.length}-${value}`;
}

function compareText(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Item.compareTo(other) from ComparableVersion; `null` stands for a missing item (the shorter list's end).
function compareItem(a: Item, b: Item | null): -1 | 0 | 1 {
  switch (a.kind) {
    case "int":
      if (b === null) return a.value === "0" ? 0 : 1;
      return b.kind === "int" ? compareDigits(a.value, b.value) : 1;
    case "string":
      if (b === null) return compareText(qualifierKey(a.value), RELEASE_INDEX);
      if (b.kind === "string") return compareText(qualifierKey(a.value), qualifierKey(b.value));
      return -1;
    case "list":
      if (b === null) return a.items.length === 0 ? 0 : compareItem(a.items[0], null);
      if (b.kind === "int") return -1;
      if (b.kind === "string") return 1;
      for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
        const l = a.items[i] ?? null;
        const r = b.items[i] ?? null;
        const result = l === null ? (r === null ? 0 : ((0 - compareItem(r, null)) as -1 | 0 | 1)) : compareItem(l, r);
        if (result !== 0) return result;
      }
      return 0;
  }
}

export function compareMavenVersions(a: string, b: string): -1 | 0 | 1 {
  return compareItem(parseMavenVersion(a), parseMavenVersion(b));
}

export const mavenComparator: VersionComparator = {
  name: "maven",
  compare: compareMavenVersions,
  isValid: (version) => version.trim() !== "" && !/\s/.test(version),
};
