/**
 * What the scanner finds in an image, independent of how it was found (issue 16). Layer walking produces files,
 * analyzers turn files into packages, matching compares packages with vulnerability data, SBOMs list them.
 */

/** Package ecosystems the scanner knows, named as OSV names them (without a release suffix such as `:12`). */
export type Ecosystem = "Debian" | "Ubuntu" | "Alpine" | "Red Hat" | "Rocky Linux" | "AlmaLinux" | "npm" | "PyPI" | "Go" | "Maven";

/** The distribution of an image, from /etc/os-release (or /etc/alpine-release, /etc/debian_version). */
export interface Distribution {
  /** os-release ID: debian, ubuntu, alpine, rhel, rocky, almalinux, fedora, … */
  id: string;
  /** os-release VERSION_ID (e.g. "12", "3.20.3", "9.4"); empty when unknown. */
  versionId: string;
  prettyName: string;
}

/** One installed package. */
export interface Package {
  ecosystem: Ecosystem;
  /** The installed (binary) package name, as tools show it. */
  name: string;
  version: string;
  /**
   * The name vulnerability data is keyed by: Debian's source package, Alpine's origin, RPM's source RPM name;
   * the same as `name` for language packages.
   */
  sourceName: string;
  /** The version vulnerability data compares (Debian: the source version, epoch included). */
  sourceVersion: string;
  arch?: string;
  /** Where it was found (the package database or manifest file, without a leading slash). */
  path: string;
  /** Package URL (purl), for SBOMs. */
  purl: string;
}

/** What one layer holds, or what the image holds once its layers are squashed. */
export interface Inventory {
  distribution: Distribution | null;
  packages: Package[];
}
