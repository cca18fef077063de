import { readFile } from "node:fs/promises";
import path from "node:path";
import { buildLayer, type Layer } from "./oci-image";

/**
 * Images the embedded scanner finds something in, built from this machine's own packages (so no image is fetched):
 * a Debian layer from the host's dpkg status and an npm layer with this project's installed `semver`, with OSV
 * records written for exactly those packages (a High glibc CVE, a Medium semver CVE, and an unscored one in a scoped
 * npm package whose name starts with "@", as a spreadsheet formula may).
 */
export const CVSS_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"; // 7.5
export const CVSS_MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"; // 4.8

/** The installed binary packages built from Debian source package `source`. */
export function binariesOf(status: string, source: string): string[] {
  return status
    .split(/\n\n+/)
    .filter((p) => /^Status: \S+ \S+ installed$/m.test(p))
    .filter((p) => (/^Source: (\S+)/m.exec(p)?.[1] ?? /^Package: (\S+)$/m.exec(p)?.[1]) === source)
    .map((p) => /^Package: (\S+)$/m.exec(p)![1]);
}

/** A field of one package's paragraph in a dpkg status file. */
export function dpkgField(status: string, pkg: string, field: string): string | null {
  const paragraph = status.split(/\n\n+/).find((p) => new RegExp(`^Package: ${pkg}$`, "m").test(p));
  return paragraph ? (new RegExp(`^${field}: (.+)$`, "m").exec(paragraph)?.[1] ?? null) : null;
}

/** An OSV record affecting `name` in `ecosystem` below `fixed`, under id `id` with CVE alias `alias`. */
export function cveRecord(id: string, alias: string, ecosystem: string, name: string, fixed: string, vector: string, summary = `${alias} in ${name}`) {
  return {
    schema_version: "1.6.0",
    id,
    aliases: [alias],
    modified: "2026-11-01T00:00:00Z",
    summary,
    severity: [{ type: "CVSS_V3", score: vector }],
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] }],
  };
}

export interface HostFixture {
  glibcVersion: string;
  /** libc6 and every other installed binary package of its source: each is a finding of the glibc record. */
  glibcBinaries: number;
  semverVersion: string;
  /** os-release and the dpkg status. */
  base: Layer;
  /** node_modules/semver and node_modules/@evil/pkg 1.0.0. */
  app: Layer;
  /**
   * CVE-2099-0001 (High, 7.5) in glibc, CVE-2099-0002 (Medium, 4.8) in semver, whose summary is `semverSummary`, and
   * CVE-2099-0003 (no score: Unknown) in @evil/pkg.
   */
  records: unknown[];
}

/** The host's packages as layers, and the records that make them vulnerable. */
export async function hostFixture(options: { semverSummary?: string } = {}): Promise<HostFixture> {
  const status = await readFile("/var/lib/dpkg/status", "utf8");
  const glibcSource = dpkgField(status, "libc6", "Source")?.split(" ")[0] ?? "libc6";
  const glibcVersion = dpkgField(status, "libc6", "Version")!;
  const semverManifest = await readFile(path.join(__dirname, "../../node_modules/semver/package.json"));
  const semverVersion = (JSON.parse(semverManifest.toString()) as { version: string }).version;
  return {
    glibcVersion,
    glibcBinaries: binariesOf(status, glibcSource).length,
    semverVersion,
    base: await buildLayer({ "etc/os-release": await readFile("/etc/os-release"), "var/lib/dpkg/status": status }),
    app: await buildLayer({
      "app/node_modules/semver/package.json": semverManifest,
      "app/node_modules/@evil/pkg/package.json": JSON.stringify({ name: "@evil/pkg", version: "1.0.0" }),
    }),
    records: [
      cveRecord("DEBIAN-CVE-2099-0001", "CVE-2099-0001", "Debian:12", glibcSource, `${glibcVersion}+berth1`, CVSS_HIGH),
      cveRecord("GHSA-berth-0002", "CVE-2099-0002", "npm", "semver", `${semverVersion.split(".")[0]}.999.0`, CVSS_MEDIUM, options.semverSummary),
      { ...cveRecord("GHSA-berth-0003", "CVE-2099-0003", "npm", "@evil/pkg", "1.0.1", ""), severity: undefined },
    ],
  };
}

/** RFC 4180 CSV parsed into rows of cells (quoted cells may hold commas, doubled quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ",") {
      endCell();
    } else if (!quoted && c === "\n") {
      endCell();
      rows.push(row);
      row = [];
    } else {
      cell += c;
    }
  }
  if (cell !== "" || row.length > 0) {
    endCell();
    rows.push(row);
  }
  return rows;
}
