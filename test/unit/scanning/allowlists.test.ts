import { MAX_ALLOWLIST_ITEMS, parseAllowlist } from "../../../registry/scanning/allowlists";

describe("a CVE allowlist from an API body", () => {
  it("keeps ids upper-case and once each, any vulnerability id form, and the expiry", () => {
    expect(parseAllowlist({ items: [{ cve_id: "cve-2024-1234" }, { cve_id: "CVE-2024-1234" }, { cve_id: " GHSA-abcd-efgh-ijkl " }], expires_at: 1798761600 })).toEqual({
      items: [{ cve_id: "CVE-2024-1234" }, { cve_id: "GHSA-ABCD-EFGH-IJKL" }],
      expires_at: 1798761600,
    });
  });

  it("reads a missing list or expiry as empty and never", () => {
    expect(parseAllowlist({})).toEqual({ items: [], expires_at: null });
    expect(parseAllowlist({ items: null, expires_at: null })).toEqual({ items: [], expires_at: null });
  });

  it.each([
    [[], "the CVE allowlist must be an object"],
    [{ items: "CVE-2024-1" }, "items must be an array of {cve_id}"],
    [{ items: [{ cve: "CVE-2024-1" }] }, /every item needs a cve_id/],
    [{ items: [{ cve_id: "not an id" }] }, /every item needs a cve_id/],
    [{ items: [], expires_at: "2027-01-01" }, "expires_at must be a unix time in seconds, or null (never)"],
    [{ items: [], expires_at: -1 }, "expires_at must be a unix time in seconds, or null (never)"],
  ])("says what is wrong with %j", (body, problem) => {
    const result = parseAllowlist(body);
    expect(typeof result).toBe("string");
    expect(result).toMatch(problem);
  });

  it("bounds the list", () => {
    const items = Array.from({ length: MAX_ALLOWLIST_ITEMS + 1 }, (_, i) => ({ cve_id: `CVE-2024-${i}` }));
    expect(parseAllowlist({ items })).toBe(`a CVE allowlist holds at most ${MAX_ALLOWLIST_ITEMS} ids`);
  });
});
