import { containsPattern } from "../db/sql";
import { HarborError } from "./errors";

/** One term of Harbor's `q=` language (src/lib/q): exact `k=v`, fuzzy `k=~v`, range `k=[a~b]`, or-list `k={a b}`. */
export type QueryTerm =
  | { key: string; kind: "exact"; value: string }
  | { key: string; kind: "fuzzy"; value: string }
  | { key: string; kind: "range"; min: string | null; max: string | null }
  | { key: string; kind: "any"; values: string[] };

function bad(message: string): never {
  throw new HarborError("BAD_REQUEST", message);
}

function unquote(value: string): string {
  return value.replace(/^["']|["']$/g, "");
}

function parseTerm(raw: string): QueryTerm {
  const eq = raw.indexOf("=");
  const key = eq < 0 ? "" : raw.slice(0, eq).trim();
  const value = eq < 0 ? "" : raw.slice(eq + 1).trim();
  if (key === "" || value === "") bad('the query string must contain "=" and the key/value cannot be empty');
  if (value.startsWith("\\")) return { key, kind: "exact", value: value.slice(1) };
  if (value.startsWith("~")) return { key, kind: "fuzzy", value: value.slice(1) };
  if (value.startsWith("[")) {
    if (!value.endsWith("]")) bad(`invalid range for ${key}: ${value}`);
    const parts = value.slice(1, -1).split("~");
    if (parts.length !== 2) bad(`a range needs exactly one "~": ${key}=${value}`);
    const [min, max] = parts.map((p) => (p.trim() === "" ? null : unquote(p.trim())));
    return { key, kind: "range", min, max };
  }
  if (value.startsWith("{") || value.startsWith("(")) {
    const close = value.startsWith("{") ? "}" : ")";
    if (!value.endsWith(close)) bad(`invalid list for ${key}: ${value}`);
    // `(a b)` (every value) can only match a single-valued column when all values are equal; treat both as "any".
    return { key, kind: "any", values: value.slice(1, -1).trim().split(/\s+/).filter(Boolean).map(unquote) };
  }
  return { key, kind: "exact", value: unquote(value) };
}

/** Parses `q`, keeping only the keys a resource can filter on (Harbor silently ignores the others). */
export function parseQuery(q: string | undefined, filterable: readonly string[]): QueryTerm[] {
  if (q === undefined || q === "") return [];
  if (q.includes("\0")) bad("q must not contain NUL characters");
  return q
    .split(",")
    .map(parseTerm)
    .filter((term) => filterable.includes(term.key));
}

/** How a key's range bounds are read: a time, a whole number or a decimal; a key not listed compares as text. */
export type RangeKinds = Record<string, "time" | "integer" | "decimal">;

const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A calendar date and clock time that exist (no 31 February, no hour 25), in a form PostgreSQL reads. */
function isTime(value: string): boolean {
  const match = TIME.exec(value);
  if (!match) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

/** The SQL cast of a range bound, after checking it has the key's kind: 400 for a bound PostgreSQL would refuse. */
function rangeBound(key: string, value: string, kind: RangeKinds[string] | undefined): string {
  if (kind === "time") {
    if (!isTime(value)) bad(`${key} range bounds must be times like 2026-01-31T12:00:00, got "${value}"`);
    return "::timestamptz";
  }
  if (kind === "integer") {
    if (!/^-?\d{1,15}$/.test(value)) bad(`${key} range bounds must be whole numbers, got "${value}"`);
    return "::bigint";
  }
  if (kind === "decimal") {
    if (!/^-?\d{1,9}(?:\.\d{1,6})?$/.test(value)) bad(`${key} range bounds must be numbers like 7.5, got "${value}"`);
    return "::float8";
  }
  return "";
}

/**
 * Turns terms into a SQL condition over `columns[key]`, appending the values to `params`. Ranges over the keys in
 * `rangeKinds` compare as times or numbers; any other range compares the column as text.
 */
export function whereClause(terms: QueryTerm[], columns: Record<string, string>, params: unknown[], rangeKinds: RangeKinds = {}): string[] {
  const add = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return terms.map((term) => {
    const column = columns[term.key];
    switch (term.kind) {
      case "exact":
        return `${column}::text = ${add(term.value)}`;
      case "fuzzy":
        return `${column}::text ILIKE ${add(containsPattern(term.value))}`;
      case "any":
        return `${column}::text = ANY(${add(term.values)}::text[])`;
      case "range": {
        const kind = rangeKinds[term.key];
        const compared = kind === undefined ? `${column}::text` : column;
        const bounds: string[] = [];
        if (term.min !== null) bounds.push(`${compared} >= ${add(term.min)}${rangeBound(term.key, term.min, kind)}`);
        if (term.max !== null) bounds.push(`${compared} <= ${add(term.max)}${rangeBound(term.key, term.max, kind)}`);
        return bounds.length ? `(${bounds.join(" AND ")})` : "TRUE";
      }
    }
  });
}
