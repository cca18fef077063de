import { HarborError } from "../../../registry/api/errors";
import { parseQuery, whereClause } from "../../../registry/api/query";

const KEYS = ["operation", "resource", "op_time"];

describe("Harbor's q= language", () => {
  it("parses exact, fuzzy, range and list terms and drops keys it cannot filter on", () => {
    expect(parseQuery("operation=create,resource=~team-a/,op_time=[2026-01-01T00:00:00~],nope=1", KEYS)).toEqual([
      { key: "operation", kind: "exact", value: "create" },
      { key: "resource", kind: "fuzzy", value: "team-a/" },
      { key: "op_time", kind: "range", min: "2026-01-01T00:00:00", max: null },
    ]);
    expect(parseQuery("operation={create delete}", KEYS)).toEqual([{ key: "operation", kind: "any", values: ["create", "delete"] }]);
    expect(parseQuery("resource=\\~literal", KEYS)).toEqual([{ key: "resource", kind: "exact", value: "~literal" }]);
  });

  it.each(["operation", "=create", "operation=", "op_time=[a~b~c]", "op_time=[a"])("refuses %s with 400", (q) => {
    expect(() => parseQuery(q, KEYS)).toThrow(HarborError);
  });

  it("builds parameterised SQL, escaping LIKE wildcards", () => {
    const params: unknown[] = [];
    const sql = whereClause(parseQuery("resource=~50%_off,operation={a b}", KEYS), { resource: "r", operation: "o" }, params);
    expect(sql).toEqual(["r::text ILIKE $1", "o::text = ANY($2::text[])"]);
    expect(params).toEqual(["%50\\%\\_off%", ["a", "b"]]);
  });

  it("compares time and number ranges as such, and any other range as text", () => {
    const params: unknown[] = [];
    const sql = whereClause(
      parseQuery("op_time=[2026-01-01T00:00:00~2026-02-28 12:30:00Z],resource=[a~b],operation=[~5]", KEYS),
      { op_time: "t", resource: "r", operation: "o" },
      params,
      { op_time: "time", operation: "integer" },
    );
    expect(sql).toEqual(["(t >= $1::timestamptz AND t <= $2::timestamptz)", "(r::text >= $3 AND r::text <= $4)", "(o <= $5::bigint)"]);
    expect(params).toEqual(["2026-01-01T00:00:00", "2026-02-28 12:30:00Z", "a", "b", "5"]);
  });

  it("compares decimal ranges as numbers and refuses bounds that are not numbers", () => {
    const params: unknown[] = [];
    expect(whereClause(parseQuery("resource=[7~9.8]", KEYS), { resource: "s" }, params, { resource: "decimal" })).toEqual(["(s >= $1::float8 AND s <= $2::float8)"]);
    expect(params).toEqual(["7", "9.8"]);
    for (const q of ["resource=[high~]", "resource=[~1e3]", "resource=[1.2.3~]"]) {
      expect(() => whereClause(parseQuery(q, KEYS), { resource: "s" }, [], { resource: "decimal" })).toThrow(HarborError);
    }
  });

  it.each(["op_time=[abc~]", "op_time=[~2026-02-31]", "op_time=[2026-01-01T25:00:00~]", "op_time=[12~]", "operation=[1.5~]", "operation=[x~]"])(
    "refuses the range %s with 400 before PostgreSQL sees it",
    (q) => {
      expect(() => whereClause(parseQuery(q, KEYS), { op_time: "t", operation: "o" }, [], { op_time: "time", operation: "integer" })).toThrow(HarborError);
    },
  );
});
