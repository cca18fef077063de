import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";

/**
 * A policy file's data read without positions, about ten times faster than `yaml`'s document (1 000 projects ×
 * 10 members: ~0.05 s instead of ~0.5 s), or null when only `yaml` may read it.
 *
 * `yaml` stays the reference: it gives the positions of every problem, and a file is read with it whenever js-yaml
 * refuses the text or the text uses what the two could read differently. Scalars resolve by `yaml`'s YAML 1.2 core
 * schema (the same patterns, below), so `yes` stays a string and `0x1F` is 31 in both. Left to `yaml`:
 * - tags, anchors and aliases (`yaml` limits alias expansion; js-yaml does not), directives (`%YAML 1.1` changes the
 *   schema), explicit keys (`?`) and flow collections at the start of a line or inside another one (keys that are
 *   collections, which `yaml` refuses);
 * - a flow collection closed at its parent's indentation, which `yaml` warns about;
 * - lines over 1 024 characters (`yaml` refuses longer implicit keys);
 * - null keys (`~:`, `null:`), which `yaml` turns into "" and js-yaml into "null".
 * Duplicate keys and several documents are errors in both (js-yaml throws, `yaml` then says where).
 */
const TOKEN_START = "(?:^|[\\s\\[{,])";
const NEEDS_YAML = new RegExp(
  [`${TOKEN_START}[!&*%?]`, "^[ \\t]*(?:-[ \\t]+)*[\\[{]", "[\\[{,][ \\t]*[\\[{]", "^[ \\t]*[\\]}]"].join("|"),
  "m",
);
const LONG_LINE = /[^\n]{1025}/;

/**
 * One js-yaml type per tag (it keeps only the last of several with the same tag), trying `yaml`'s patterns for that
 * tag in `yaml`'s order.
 */
const scalar = (tag: string, forms: [RegExp, (text: string) => unknown][]) =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: "scalar",
    resolve: (text: string | null) => text !== null && forms.some(([test]) => test.test(text)),
    construct: (text: string) => forms.find(([test]) => test.test(text))![1](text),
  });

// yaml/dist/schema/core: null, bool, int (octal, decimal, hex), float (nan/inf, exponent, plain), in its order.
const CORE = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar("null", [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    scalar("bool", [[/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === "t" || text[0] === "T"]]),
    scalar("int", [
      [/^0o[0-7]+$/, (text) => parseInt(text.substring(2), 8)],
      [/^[-+]?[0-9]+$/, (text) => parseInt(text, 10)],
      [/^0x[0-9a-fA-F]+$/, (text) => parseInt(text.substring(2), 16)],
    ]),
    scalar("float", [
      [/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (text) => (text.slice(-3).toLowerCase() === "nan" ? NaN : text[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY)],
      [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (text) => parseFloat(text)],
      [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (text) => parseFloat(text)],
    ]),
  ],
});

/** A key js-yaml may have made from a null (`~:` → "null"; `yaml` makes it ""). */
const NULL_KEY = /^(?:~|[Nn]ull|NULL)?$/;

/** Quoted scalars on one line, whose text the scan above must not take for syntax (`cron: "0 0 3 * * *"`). */
const QUOTED = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'/g;

/**
 * Whether `value` holds a null key, or a collection twice (an alias the scan missed, say in a line the quote removal
 * misread): then `yaml`, which limits aliases, reads it.
 */
function unsure(value: unknown, seen: Set<object>): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (seen.has(value)) return true;
  seen.add(value);
  if (Array.isArray(value)) return value.some((item) => unsure(item, seen));
  for (const [key, item] of Object.entries(value)) if (NULL_KEY.test(key) || unsure(item, seen)) return true;
  return false;
}

export function fastYaml(text: string): { data: unknown } | null {
  if (LONG_LINE.test(text) || NEEDS_YAML.test(text.replace(QUOTED, '""'))) return null;
  let data: unknown;
  try {
    data = load(text, { schema: CORE });
  } catch {
    return null;
  }
  return unsure(data, new Set()) ? null : { data: data === undefined ? null : data };
}
