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

/** Turns terms into a SQL condition over `columns[key]`, appending the values to `params`. */
export function whereClause(terms: QueryTerm[], columns: Record<string, string>, params: unknown[]): string[] {
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
        const bounds: string[] = [];
        if (term.min !== null) bounds.push(`${column} >= ${add(term.min)}`);
        if (term.max !== null) bounds.push(`${column} <= ${add(term.max)}`);
        return bounds.length ? `(${bounds.join(" AND ")})` : "TRUE";
      }
    }
  });
}
