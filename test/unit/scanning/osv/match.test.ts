import type { Inventory, Package } from "../../../../registry/scanning/inventory";
import { matchInventory, osvEcosystemOf, summarize, type VulnerabilitySource } from "../../../../registry/scanning/osv/match";
import type { OsvRecord } from "../../../../registry/scanning/osv/types";

function pkg(fields: Partial<Package> & Pick<Package, "ecosystem" | "name" | "version">): Package {
  return { sourceName: fields.name, sourceVersion: fields.version, path: "var/lib/dpkg/status", purl: `pkg:x/${fields.name}@${fields.version}`, ...fields };
}

/** An in-memory source that also records which (ecosystem, name) pairs matching asked for. */
function sourceOf(records: OsvRecord[]): VulnerabilitySource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async recordsFor(ecosystem, name) {
      asked.push(`${ecosystem}/${name}`);
      return records.filter((record) => record.affected?.some((a) => a.package?.ecosystem === ecosystem && a.package.name.toLowerCase() === name.toLowerCase()));
    },
  };
}

const range = (introduced: string, fixed?: string) => ({ type: "ECOSYSTEM" as const, events: fixed ? [{ introduced }, { fixed }] : [{ introduced }] });

// libc6 from the glibc source package, with an epoch-less Debian version; openssh with an epoch.
const LIBC = pkg({ ecosystem: "Debian", name: "libc6", version: "2.36-9+deb12u3", sourceName: "glibc", arch: "amd64" });
const SSH = pkg({ ecosystem: "Debian", name: "openssh-client", version: "1:9.2p1-2+deb12u2", sourceName: "openssh" });
const MUSL = pkg({ ecosystem: "Alpine", name: "musl-utils", version: "1.2.4-r2", sourceName: "musl", path: "lib/apk/db/installed" });
const YAML = pkg({ ecosystem: "PyPI", name: "PyYAML", version: "5.3", sourceName: "pyyaml", path: "usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA" });
const LODASH = pkg({ ecosystem: "npm", name: "lodash", version: "4.17.20", path: "app/node_modules/lodash/package.json" });

const RECORDS: OsvRecord[] = [
  {
    id: "DEBIAN-CVE-2023-4911",
    modified: "2024-01-01T00:00:00Z",
    upstream: ["CVE-2023-4911"],
    summary: "Looney Tunables: buffer overflow in ld.so",
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H" }],
    affected: [{ package: { ecosystem: "Debian:12", name: "glibc" }, ranges: [range("0", "2.36-9+deb12u3")] }],
  },
  {
    id: "DSA-9999-1",
    modified: "2024-01-01T00:00:00Z",
    aliases: ["CVE-2024-0001"],
    summary: "glibc: a later flaw",
    affected: [{ package: { ecosystem: "Debian:12", name: "glibc" }, ranges: [range("0", "2.36-9+deb12u7")], database_specific: { urgency: "medium" } }],
  },
  {
    id: "DEBIAN-CVE-2024-0001",
    modified: "2024-01-01T00:00:00Z",
    upstream: ["CVE-2024-0001"],
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
    affected: [{ package: { ecosystem: "Debian:12", name: "glibc" }, ranges: [range("0", "2.36-9+deb12u5")] }],
  },
  {
    id: "DEBIAN-CVE-2023-48795",
    modified: "2024-01-01T00:00:00Z",
    upstream: ["CVE-2023-48795"],
    affected: [{ package: { ecosystem: "Debian:12", name: "openssh" }, ranges: [range("0", "1:9.2p1-2+deb12u2")] }],
  },
  {
    id: "DEBIAN-CVE-2022-0002",
    modified: "2024-01-01T00:00:00Z",
    upstream: ["CVE-2022-0002"],
    affected: [{ package: { ecosystem: "Debian:11", name: "glibc" }, ranges: [range("0")] }],
  },
  {
    id: "ALPINE-CVE-2025-26519",
    modified: "2025-02-14T00:00:00Z",
    upstream: ["CVE-2025-26519"],
    affected: [{ package: { ecosystem: "Alpine:v3.20", name: "musl" }, ranges: [range("0", "1.2.5-r1")] }],
  },
  {
    id: "GHSA-8q59-q68h-6hv4",
    modified: "2021-01-01T00:00:00Z",
    aliases: ["CVE-2020-14343"],
    withdrawn: undefined,
    affected: [{ package: { ecosystem: "PyPI", name: "PyYAML" }, ranges: [range("0", "5.4")], database_specific: { severity: "CRITICAL" } }],
  },
  {
    id: "GHSA-withdrawn",
    modified: "2021-01-01T00:00:00Z",
    withdrawn: "2021-02-01T00:00:00Z",
    affected: [{ package: { ecosystem: "npm", name: "lodash" }, ranges: [range("0")] }],
  },
  {
    id: "GHSA-35jh-r3h4-6jhm",
    modified: "2021-01-01T00:00:00Z",
    aliases: ["CVE-2021-23337"],
    affected: [{ package: { ecosystem: "npm", name: "lodash" }, ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "4.17.21" }] }] }],
  },
];

describe("matching an inventory against OSV records", () => {
  const inventory: Inventory = { distribution: { id: "debian", versionId: "12", prettyName: "" }, packages: [LIBC, SSH, YAML, LODASH, MUSL] };

  it("finds Debian packages by source package and source version, epoch included, and only in the image's release", async () => {
    const { findings } = await matchInventory(inventory, "Debian:12", sourceOf(RECORDS));
    const debian = findings.filter((item) => item.vendor_attributes.ecosystem === "Debian:12");
    // deb12u3 is the fix of CVE-2023-4911 (not affected); the later flaws are; openssh's fix equals the installed version.
    expect(debian.map((item) => `${item.id} ${item.package}`)).toEqual(["CVE-2024-0001 libc6"]);
    // Debian:11's record does not apply to a Debian 12 image.
    expect(findings.map((item) => item.id)).not.toContain("CVE-2022-0002");
  });

  it("collapses records of one CVE into one finding: every id kept, the highest severity, the highest fix", async () => {
    const { findings } = await matchInventory(inventory, "Debian:12", sourceOf(RECORDS));
    const [cve] = findings.filter((item) => item.id === "CVE-2024-0001");
    expect(cve).toMatchObject({ package: "libc6", version: "2.36-9+deb12u3", fix_version: "2.36-9+deb12u7", severity: "Critical" });
    expect(cve.preferred_cvss).toEqual({ score_v3: 9.8, vector_v3: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" });
    expect(cve.vendor_attributes.ids.sort()).toEqual(["CVE-2024-0001", "DEBIAN-CVE-2024-0001", "DSA-9999-1"]);
    expect(cve.description).toBe("glibc: a later flaw");
  });

  it("matches language packages in their own ecosystems (PyPI names in any spelling), skips withdrawn records, and reports the CVE id", async () => {
    const { findings } = await matchInventory(inventory, "Debian:12", sourceOf(RECORDS));
    expect(findings.find((item) => item.package === "PyYAML")).toMatchObject({ id: "CVE-2020-14343", fix_version: "5.4", severity: "Critical" });
    const lodash = findings.filter((item) => item.package === "lodash");
    expect(lodash.map((item) => item.id)).toEqual(["CVE-2021-23337"]);
    expect(lodash[0]).toMatchObject({ fix_version: "4.17.21", severity: "Unknown" });
  });

  it("leaves OS packages of another family alone, and asks for Alpine packages by origin", async () => {
    const debian = sourceOf(RECORDS);
    await matchInventory(inventory, "Debian:12", debian);
    expect(debian.asked).not.toContain("Alpine:v3.20/musl");
    const alpine = sourceOf(RECORDS);
    const { findings } = await matchInventory({ distribution: null, packages: [MUSL] }, "Alpine:v3.20", alpine);
    expect(alpine.asked).toEqual(["Alpine:v3.20/musl"]);
    expect(findings).toEqual([expect.objectContaining({ id: "CVE-2025-26519", package: "musl-utils", fix_version: "1.2.5-r1" })]);
    expect(osvEcosystemOf(MUSL, null)).toBeNull();
  });

  it("sets aside a package whose version its ecosystem cannot read, and matches the rest", async () => {
    const broken = pkg({ ecosystem: "Debian", name: "libbroken", version: "1:", sourceName: "glibc" });
    const { findings, unmatched } = await matchInventory({ distribution: null, packages: [broken, LODASH] }, "Debian:12", sourceOf(RECORDS));
    expect(unmatched.map((item) => item.package.name)).toEqual(["libbroken"]);
    expect(findings.map((item) => item.package)).toEqual(["lodash"]);
  });

  it("answers each package version once for inventories sharing a memo, with the findings each would get alone", async () => {
    const alone = await matchInventory(inventory, "Debian:12", sourceOf(RECORDS));
    const shared = sourceOf(RECORDS);
    const memo = new Map();
    const other: Inventory = { ...inventory, packages: [{ ...LIBC, name: "libc6-dev", path: "other/status" }, LODASH] };
    const first = await matchInventory(inventory, "Debian:12", shared, memo);
    const second = await matchInventory(other, "Debian:12", shared, memo);
    expect(first).toEqual(alone);
    // libc6-dev is another binary of glibc at the same version: the same records, its own finding.
    expect(second.findings.map((item) => `${item.id} ${item.package} ${item.vendor_attributes.path}`).sort()).toEqual([
      "CVE-2021-23337 lodash app/node_modules/lodash/package.json",
      "CVE-2024-0001 libc6-dev other/status",
    ]);
    expect(shared.asked.filter((asked) => asked === "Debian:12/glibc")).toHaveLength(1);
    // A finding of one inventory is its own object: merging into it leaves the other's alone.
    second.findings[0].vendor_attributes.ids.push("changed");
    expect(first.findings.flatMap((item) => item.vendor_attributes.ids)).not.toContain("changed");
  });

  it("summarises as Harbor does: the highest severity, totals per severity and how many have a fix", async () => {
    const { findings } = await matchInventory(inventory, "Debian:12", sourceOf(RECORDS));
    expect(summarize(findings)).toEqual({ severity: "Critical", total: 3, fixable: 3, summary: { Critical: 2, Unknown: 1 } });
    expect(summarize([])).toEqual({ severity: "None", total: 0, fixable: 0, summary: {} });
  });
});
