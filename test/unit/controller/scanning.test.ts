import type { ApiClient } from "../../../controller/api-client";
import { diff } from "../../../controller/plan/diff";
import { formatMarkdown, formatText } from "../../../controller/plan/format";
import { makePlan, type Plan } from "../../../controller/plan/plan";
import { countsOf, MAX_REPORTS, preventionImpact, type ApiArtifact } from "../../../controller/plan/prevention-impact";
import { ruleDetails } from "../../../controller/plan/rule-changes";
import type { DesiredProject, Policy } from "../../../controller/policy/model";
import { vulnerabilityFields } from "../../../controller/state/desired";
import { scanningBody, scanningFieldsOf } from "../../../controller/state/harbor-shapes";
import { emptyState, type Fields, type LiveObject } from "../../../controller/state/kinds";
import type { Finding } from "../../../registry/scanning/osv/match";
import { VULNERABILITY_REPORT_MIME_TYPE } from "../../../registry/scanning/report/harbor";

const MIME = VULNERABILITY_REPORT_MIME_TYPE;
const declared = (fields: Partial<DesiredProject>): DesiredProject => ({
  name: "team-a",
  public: false,
  storageLimit: null,
  immutableTags: null,
  retention: null,
  autoScan: null,
  preventVulnerable: null,
  cveAllowlist: null,
  ...fields,
});

describe("scanning settings both ways", () => {
  it("reads back what it sends, so an applied project plans nothing", () => {
    const desired = vulnerabilityFields(declared({ autoScan: true, preventVulnerable: "high", cveAllowlist: { items: ["CVE-2023-9999", "CVE-2024-1234"], expiresAt: "2027-06-30T00:00:00Z" } }));
    const body = scanningBody(desired);
    expect(body).toEqual({
      metadata: { auto_scan: "true", prevent_vul: "true", severity: "high", reuse_sys_cve_allowlist: "false" },
      cve_allowlist: { items: [{ cve_id: "CVE-2023-9999" }, { cve_id: "CVE-2024-1234" }], expires_at: 1814313600 },
    });
    // The registry hands the allowlist back in its own order, with its bookkeeping fields.
    const stored = { id: 4, project_id: 2, items: [...body.cve_allowlist!.items].reverse(), expires_at: 1814313600, creation_time: "", update_time: "" };
    expect(scanningFieldsOf(body.metadata, stored)).toEqual(desired);
  });

  it("turns prevention off without touching the threshold, and reads Harbor's defaults for absent keys", () => {
    expect(scanningBody({ preventVulnerable: "off" })).toEqual({ metadata: { prevent_vul: "false" } });
    expect(scanningFieldsOf({ public: "true" }, null)).toEqual({ autoScan: false, preventVulnerable: "off", cveAllowlist: { useSystemAllowlist: true, items: [], expiresAt: null } });
    expect(scanningFieldsOf({ prevent_vul: "true" }, { items: [], expires_at: null }).preventVulnerable).toBe("none");
  });

  it("compares only the scanning fields the files declare", () => {
    expect(vulnerabilityFields(declared({ preventVulnerable: "off" }))).toEqual({ preventVulnerable: "off" });
    expect(vulnerabilityFields(declared({}))).toEqual({});
  });
});

const live = (key: string, fields: Fields) => {
  const state = emptyState<LiveObject>();
  state.project.set(key, { fields, ref: { id: 1 } });
  return state;
};

describe("scanning changes in a plan", () => {
  const plan = (changes: Plan["changes"], prevention: Plan["prevention"] = []): Plan => ({ changes, access: [], retention: [], prevention, live: emptyState<LiveObject>() });

  it("shows a threshold change and an allowlist id by id", () => {
    const project = declared({ autoScan: true, preventVulnerable: "high", cveAllowlist: { items: ["CVE-2024-1234", "CVE-2024-5678"], expiresAt: "2027-06-30T00:00:00Z" } });
    const desired = emptyState<Fields>();
    desired.project.set("team-a", { public: false, ...vulnerabilityFields(project) });
    const before = { public: false, autoScan: true, preventVulnerable: "off", cveAllowlist: { useSystemAllowlist: true, items: ["CVE-2020-0001", "CVE-2024-1234"], expiresAt: null } };
    const [change] = diff(desired, live("team-a", before));
    change.detail = ruleDetails(change, { projects: [project] });
    expect(formatText(plan([change])).split("\n").slice(2, -1)).toEqual([
      "~ project team-a",
      '    preventVulnerable: "off" → "high"',
      "    cveAllowlist.useSystemAllowlist: true → false",
      '    cveAllowlist.expiresAt: null → "2027-06-30T00:00:00Z"',
      '    cveAllowlist.items: added "CVE-2024-5678"',
      '    cveAllowlist.items: removed "CVE-2020-0001"',
    ]);
  });

  it("lists the images prevention would block, in text and in markdown", () => {
    const change = { kind: "project" as const, key: "team-a", action: "update" as const, fields: [{ field: "preventVulnerable", before: "off", after: "high" }] };
    const reason = "team-a/app@sha256:aa (v1) cannot be pulled: it has a High vulnerability (CVE-2024-1), and the project refuses High and above";
    const impact = [{ project: "team-a", severity: "high" as const, blocks: [{ repository: "team-a/app", digest: "sha256:aa", tags: ["v1"], reason }], unchecked: 0 }];
    expect(formatText(plan([change], impact))).toContain(["Vulnerability prevention impact:", "  team-a: preventVulnerable high would block 1 current image(s)", `      ${reason}`].join("\n"));
    const markdown = formatMarkdown(plan([change], impact));
    expect(markdown).toContain(["#### Vulnerability prevention impact", "", "```", "team-a: preventVulnerable high would block 1 current image(s)", `    ${reason}`, "```"].join("\n"));
  });
});

/** A registry API that answers GETs from `answers` (by path) and records every path asked for. */
function fakeApi(answers: Record<string, unknown>) {
  const asked: string[] = [];
  const answer = (path: string) => {
    asked.push(path);
    if (!(path in answers)) return null;
    return answers[path];
  };
  const client = { list: async (path: string) => answer(path) ?? [], get: async (path: string) => answer(path) };
  return { client: client as unknown as ApiClient, asked };
}

const finding = (id: string, severity: Finding["severity"], aliases: string[] = []) => ({ id, severity, package: "openssl", version: "1", fix_version: "", description: "", links: [], vendor_attributes: { ids: aliases, ecosystem: "", path: "", purl: "" } });
const scanned = (digest: string, severity: Finding["severity"], counts: Partial<Record<Finding["severity"], number>>, tags = ["v1"]): ApiArtifact => ({
  digest,
  type: "IMAGE",
  tags: tags.map((name) => ({ name })),
  scan_overview: { [MIME]: { scan_status: "Success", severity, summary: { total: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0), fixable: 0, summary: counts } } },
});

describe("preventionImpact", () => {
  const ARTIFACTS = "/projects/team-a/repositories/app/artifacts";
  const NESTED = "/projects/team-a/repositories/tools%252Fcli/artifacts";
  const base = {
    "/projects/team-a/repositories": [{ name: "team-a/app" }, { name: "team-a/tools/cli" }],
    "/projects/team-a": { metadata: { reuse_sys_cve_allowlist: "false" }, cve_allowlist: { items: [{ cve_id: "CVE-2024-0002" }], expires_at: null } },
  };
  const artifacts = {
    [`${ARTIFACTS}?with_tag=true&with_scan_overview=true`]: [
      { digest: "sha256:never", type: "IMAGE", tags: [] },
      { ...scanned("sha256:failed", "Unknown", {}), scan_overview: { [MIME]: { scan_status: "Error", severity: "Unknown", summary: { total: 0, fixable: 0, summary: {} } } } },
      scanned("sha256:clean", "None", {}),
      scanned("sha256:medium", "Medium", { Medium: 3, Low: 1 }),
      scanned("sha256:high", "High", { High: 1, Medium: 2 }),
      scanned("sha256:excused", "Critical", { Critical: 1 }),
      { digest: "sha256:index", type: "IMAGE_INDEX", tags: [{ name: "multi" }], manifest_media_type: "application/vnd.oci.image.index.v1+json" },
    ],
    [`${NESTED}?with_tag=true&with_scan_overview=true`]: [scanned("sha256:cli", "High", { High: 2 }, [])],
    [`${ARTIFACTS}/sha256:high/additions/vulnerabilities`]: { [MIME]: { vulnerabilities: [finding("CVE-2024-0001", "High"), finding("CVE-2024-0003", "Medium")] } },
    // Allowlisted under an alias: the registry would let it through.
    [`${ARTIFACTS}/sha256:excused/additions/vulnerabilities`]: { [MIME]: { vulnerabilities: [finding("DEBIAN-CVE-2024-0002", "Critical", ["CVE-2024-0002"])] } },
  };

  it("blocks what the registry would refuse, reading vulnerability lists only where the summary reaches the threshold", async () => {
    const { client, asked } = fakeApi({ ...base, ...artifacts });
    const impact = await preventionImpact(client, "team-a", declared({}), "high");
    expect(impact.blocks.map((b) => b.reason)).toEqual([
      "team-a/app@sha256:never cannot be pulled: it has not been scanned, and the project refuses images without a vulnerability scan",
      "team-a/app@sha256:failed (v1) cannot be pulled: its vulnerability scan is error, and the project refuses images without a successful scan",
      "team-a/app@sha256:high (v1) cannot be pulled: it has a High vulnerability (CVE-2024-0001), and the project refuses High and above",
      "team-a/tools/cli@sha256:cli cannot be pulled by its scan summary (High 2); its vulnerability list was not read, so allowlists were not applied",
    ]);
    expect(impact.unchecked).toBe(1);
    expect(asked.filter((p) => p.endsWith("/additions/vulnerabilities"))).toEqual([
      `${ARTIFACTS}/sha256:high/additions/vulnerabilities`,
      `${ARTIFACTS}/sha256:excused/additions/vulnerabilities`,
      `${NESTED}/sha256:cli/additions/vulnerabilities`,
    ]);
  });

  it("applies the files' allowlist when they declare one, and blocks any vulnerability under none", async () => {
    const { client, asked } = fakeApi({ ...base, ...artifacts });
    const impact = await preventionImpact(client, "team-a", declared({ cveAllowlist: { items: ["CVE-2024-0001"], expiresAt: null } }), "none");
    expect(impact.blocks.map((b) => b.digest)).toEqual(["sha256:never", "sha256:failed", "sha256:medium", "sha256:high", "sha256:excused", "sha256:cli"]);
    expect(impact.blocks.find((b) => b.digest === "sha256:high")!.reason).toContain("it has a Medium vulnerability (CVE-2024-0003), and the project refuses any vulnerability");
    expect(asked).not.toContain("/projects/team-a");
  });

  it("honours an expired allowlist as the registry does (not at all)", async () => {
    const { client } = fakeApi({ ...base, ...artifacts });
    const impact = await preventionImpact(client, "team-a", declared({ cveAllowlist: { items: ["CVE-2024-0002"], expiresAt: "2020-01-01T00:00:00Z" } }), "critical");
    expect(impact.blocks.map((b) => b.digest)).toEqual(["sha256:never", "sha256:failed", "sha256:excused"]);
  });

  it("uses the system allowlist when the project does, and reads at most MAX_REPORTS vulnerability lists", async () => {
    const many = Array.from({ length: MAX_REPORTS + 5 }, (_, i) => scanned(`sha256:${i}`, "Critical", { Critical: 1 }));
    const { client, asked } = fakeApi({
      "/projects/team-a/repositories": [{ name: "team-a/app" }],
      "/projects/team-a": { metadata: {} },
      "/system/CVEAllowlist": { items: [{ cve_id: "CVE-2024-0002" }], expires_at: null },
      [`${ARTIFACTS}?with_tag=true&with_scan_overview=true`]: many,
    });
    const impact = await preventionImpact(client, "team-a", declared({}), "critical");
    expect(asked).toContain("/system/CVEAllowlist");
    expect(asked.filter((p) => p.endsWith("/additions/vulnerabilities"))).toHaveLength(MAX_REPORTS);
    expect(impact.blocks).toHaveLength(MAX_REPORTS + 5);
    expect(impact.unchecked).toBe(MAX_REPORTS + 5); // the fake registry has no lists to read
  });

  it("names severity counts most severe first", () => {
    expect(countsOf({ summary: { total: 6, fixable: 0, summary: { Low: 1, Critical: 2, Medium: 3, High: 0 } } })).toBe("Critical 2, Medium 3, Low 1");
  });
});

describe("makePlan's prevention preview", () => {
  const policyWith = (project: DesiredProject): Policy => ({
    settings: { prune: false, drift: "correct", adopt: true, allowDeleteAll: false },
    configuration: {},
    registries: [],
    users: [],
    labels: [],
    projects: [project],
    memberProjects: [],
    members: [],
    robots: [],
    replications: [],
    secrets: [],
  });
  const registry = (metadata: Record<string, string>) =>
    fakeApi({
      "/projects": [{ project_id: 1, name: "team-a", metadata }],
      "/projects/team-a/repositories": [{ name: "team-a/app" }],
      "/projects/team-a/repositories/app/artifacts?with_tag=true&with_scan_overview=true": [{ digest: "sha256:never", type: "IMAGE", tags: [] }],
    });

  it.each([
    ["a threshold turned on", { prevent_vul: "false" }, { preventVulnerable: "high" as const }, 1],
    ["a threshold lowered", { prevent_vul: "true", severity: "critical" }, { preventVulnerable: "high" as const }, 1],
    ["an allowlist changed under prevention", { prevent_vul: "true", severity: "high" }, { preventVulnerable: "high" as const, cveAllowlist: { items: ["CVE-1"], expiresAt: null } }, 1],
    ["prevention turned off", { prevent_vul: "true", severity: "high" }, { preventVulnerable: "off" as const }, 0],
    ["only autoScan changed", { prevent_vul: "true", severity: "high" }, { preventVulnerable: "high" as const, autoScan: true }, 0],
  ])("%s (%j → %j): %i preview(s)", async (_what, metadata, fields, previews) => {
    const { client } = registry(metadata);
    const plan = await makePlan(client, policyWith(declared(fields)), "admin", []);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.key}`)).toEqual(["adopt project team-a"]);
    expect(plan.prevention).toHaveLength(previews);
    if (previews) expect(plan.prevention[0].blocks.map((b) => b.digest)).toEqual(["sha256:never"]);
  });
});
