import { ConfigError } from "../../../../registry/config";
import { DEFAULT_VULNDB_ECOSYSTEMS, parseVulnDbConfig } from "../../../../registry/scanning/vulndb/config";

describe("BERTH_VULNDB_* settings", () => {
  it("default to no mirror, OSV's main ecosystems, a daily sync, 2 GiB zips and 64 MiB JSON documents", () => {
    expect(parseVulnDbConfig({})).toEqual({ url: undefined, ecosystems: DEFAULT_VULNDB_ECOSYSTEMS, schedule: "0 3 * * *", maxZipBytes: 2 * 1024 ** 3, maxJsonBytes: 64 * 1024 ** 2 });
  });

  it("read a mirror, a list of ecosystems, a schedule and limits", () => {
    expect(
      parseVulnDbConfig({
        BERTH_VULNDB_URL: "https://mirror.example/osv/",
        BERTH_VULNDB_ECOSYSTEMS: " Debian, Alpine ,,npm",
        BERTH_VULNDB_SYNC_SCHEDULE: "0 */6 * * *",
        BERTH_VULNDB_MAX_ZIP_BYTES: "5000000000",
        BERTH_VULNDB_MAX_JSON_BYTES: "1048576",
      }),
    ).toEqual({ url: "https://mirror.example/osv", ecosystems: ["Debian", "Alpine", "npm"], schedule: "0 */6 * * *", maxZipBytes: 5_000_000_000, maxJsonBytes: 1_048_576 });
  });

  it.each([
    ["BERTH_VULNDB_URL", "ftp://mirror", "must start with http:// or https://"],
    ["BERTH_VULNDB_URL", "not a url", "is not a URL"],
    ["BERTH_VULNDB_ECOSYSTEMS", "Debian,../etc", "is not an OSV ecosystem name"],
    ["BERTH_VULNDB_SYNC_SCHEDULE", "daily", "is not a cron expression"],
    ["BERTH_VULNDB_MAX_ZIP_BYTES", "2G", "whole number of bytes"],
    ["BERTH_VULNDB_MAX_JSON_BYTES", "10", "at least 1024"],
  ])("refuse a bad %s (%s)", (variable, value, reason) => {
    expect(() => parseVulnDbConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => parseVulnDbConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: .*${reason.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
  });
});
