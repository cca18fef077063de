import * as pep440 from "@renovatebot/pep440";
import { SemVer } from "semver";

import type { Ecosystem } from "../inventory";
import { apkComparator } from "./apk";
import { InvalidVersionError, VersionComparator } from "./comparator";
import { dpkgComparator } from "./dpkg";
import { mavenComparator } from "./maven";
import { rpmComparator } from "./rpm";

export { InvalidVersionError } from "./comparator";
export type { VersionComparator } from "./comparator";

function readSemver(ordering: string, version: string): SemVer {
  try {
    return new SemVer(version);
  } catch {
    throw new InvalidVersionError(ordering, version, "not a SemVer 2.0 version");
  }
}

/** SemVer 2.0 precedence (build metadata ignored), as OSV's SEMVER ranges and npm use it. */
export const semverComparator: VersionComparator = {
  name: "semver",
  compare: (a, b) => readSemver("semver", a).compare(readSemver("semver", b)),
  isValid(version) {
    try {
      new SemVer(version);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * Go module versions: SemVer with a leading `v` (OSV writes them without it). `+incompatible` is build metadata and
 * so ignored; pseudo-versions (v0.0.0-20210101000000-abcdef) are ordinary pre-releases. Toolchain versions of the
 * `stdlib` package come as `go1.21.5` or `1.21`; the `go` prefix is dropped and a missing patch number counts as 0.
 */
export function goToSemver(version: string): string {
  const bare = version.replace(/^(v|go)(?=[0-9])/, "");
  return /^[0-9]+\.[0-9]+$/.test(bare) ? `${bare}.0` : bare;
}

export const goComparator: VersionComparator = {
  name: "go",
  compare: (a, b) => readSemver("go", goToSemver(a)).compare(readSemver("go", goToSemver(b))),
  isValid: (version) => semverComparator.isValid(goToSemver(version)),
};

function readPep440(version: string): string {
  if (pep440.parse(version) === null) throw new InvalidVersionError("pep440", version, "not a PEP 440 version");
  return version;
}

/** PEP 440 (PyPI), with @renovatebot/pep440 (4.x: 5.x needs Node 22). */
export const pep440Comparator: VersionComparator = {
  name: "pep440",
  compare: (a, b) => Math.sign(pep440.compare(readPep440(a), readPep440(b))) as -1 | 0 | 1,
  isValid: (version) => pep440.parse(version) !== null,
};

const BY_ECOSYSTEM: Record<Ecosystem, VersionComparator> = {
  Debian: dpkgComparator,
  Ubuntu: dpkgComparator,
  Alpine: apkComparator,
  "Red Hat": rpmComparator,
  "Rocky Linux": rpmComparator,
  AlmaLinux: rpmComparator,
  npm: semverComparator,
  Go: goComparator,
  PyPI: pep440Comparator,
  Maven: mavenComparator,
};

/** The ordering OSV's ECOSYSTEM ranges use for packages of this ecosystem. */
export function comparatorFor(ecosystem: Ecosystem): VersionComparator {
  return BY_ECOSYSTEM[ecosystem];
}

/**
 * The ordering for an OSV `affected[].package.ecosystem` string, which may carry a release after a colon
 * (`Debian:12`, `Alpine:v3.20`, `Red Hat:enterprise_linux:9::appstream`); null for ecosystems the scanner does not know.
 */
export function comparatorForOsvEcosystem(osvEcosystem: string): VersionComparator | null {
  const base = osvEcosystem.split(":")[0];
  return Object.prototype.hasOwnProperty.call(BY_ECOSYSTEM, base) ? BY_ECOSYSTEM[base as Ecosystem] : null;
}
