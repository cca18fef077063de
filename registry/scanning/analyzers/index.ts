/**
 * Every analyzer behind one interface, for the layer walk (registry/scanning/layers/walk.ts): the walk asks each
 * whether it wants a file (path, size and the tar entry's mode, before reading a byte), buffers only the wanted
 * files, and stores what the analyzers found per path. Limits are one object so configuration passes them whole.
 */
import type { Distribution, Package } from "../inventory";
import * as apk from "./apk";
import * as dpkg from "./dpkg";
import * as goBinary from "./go-binary";
import * as java from "./java";
import * as npm from "./npm";
import * as osRelease from "./os-release";
import * as python from "./python";
import * as rpm from "./rpm";

/** What one file holds: packages, and for os-release and its kin the distribution. */
export interface FileFindings {
  packages: Package[];
  distribution?: Distribution;
}

export interface Analyzer {
  name: string;
  /** Whether the file is worth buffering; `mode` is the tar entry's permission bits. */
  interest(path: string, size: number, mode?: number): boolean;
  analyze(path: string, content: Buffer): FileFindings | Promise<FileFindings>;
}

export interface AnalyzerLimits {
  osReleaseMaxBytes: number;
  /** dpkg status, status.d files, the apk database and the rpmdb. */
  packageDbMaxBytes: number;
  npmManifestMaxBytes: number;
  pythonMetadataMaxBytes: number;
  goBinaryMaxBytes: number;
  java: java.JavaLimits;
}

export const DEFAULT_ANALYZER_LIMITS: AnalyzerLimits = {
  osReleaseMaxBytes: osRelease.OS_RELEASE_MAX_BYTES,
  packageDbMaxBytes: dpkg.PACKAGE_DB_MAX_BYTES,
  npmManifestMaxBytes: npm.NPM_PACKAGE_JSON_MAX_BYTES,
  pythonMetadataMaxBytes: python.PYTHON_METADATA_MAX_BYTES,
  goBinaryMaxBytes: goBinary.GO_BINARY_MAX_BYTES,
  java: java.DEFAULT_JAVA_LIMITS,
};

const packagesOnly = (packages: Package[]): FileFindings => ({ packages });

/** The analyzers with the given limits. */
export function analyzersFor(limits: AnalyzerLimits = DEFAULT_ANALYZER_LIMITS): readonly Analyzer[] {
  return [
    { name: "os-release", interest: (path, size) => osRelease.interest(path, size, limits.osReleaseMaxBytes), analyze: osRelease.analyze },
    { name: "dpkg", interest: (path, size) => dpkg.interest(path, size, limits.packageDbMaxBytes), analyze: (path, content) => packagesOnly(dpkg.analyze(path, content)) },
    { name: "apk", interest: (path, size) => apk.interest(path, size, limits.packageDbMaxBytes), analyze: (path, content) => packagesOnly(apk.analyze(path, content)) },
    { name: "rpm", interest: (path, size) => rpm.interest(path, size, limits.packageDbMaxBytes), analyze: async (path, content) => packagesOnly(await rpm.analyze(path, content)) },
    { name: "npm", interest: (path, size) => npm.interest(path, size, limits.npmManifestMaxBytes), analyze: (path, content) => packagesOnly(npm.analyze(path, content)) },
    { name: "python", interest: (path, size) => python.interest(path, size, limits.pythonMetadataMaxBytes), analyze: (path, content) => packagesOnly(python.analyze(path, content)) },
    { name: "go-binary", interest: (path, size, mode) => goBinary.interest(path, size, mode, limits.goBinaryMaxBytes), analyze: (path, content) => packagesOnly(goBinary.analyze(path, content)) },
    { name: "java", interest: (path, size) => java.interest(path, size, limits.java), analyze: async (path, content) => packagesOnly(await java.analyze(path, content, limits.java)) },
  ];
}

/** The analyzers with their default limits. */
export const ANALYZERS: readonly Analyzer[] = analyzersFor();
