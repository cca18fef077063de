import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The release artifact `npm run release` wrote (scripts/release.mjs), as the stacks install it on hosts. */
export interface ReleaseArtifact {
  version: string;
  /** "x64" or "arm64" (Node's process.arch names, as in the file name). */
  arch: string;
  /** berth-<version>-linux-<arch>.tar.gz */
  fileName: string;
  /** Absolute path of the tarball. */
  path: string;
  /** Hex SHA-256 of the tarball, from its .sha256 file. */
  sha256: string;
}

const REPO_ROOT = path.join(__dirname, "..");

/** The file name `npm run release` gives the artifact of `version` for `arch`. */
export function releaseFileName(version: string, arch: string): string {
  return `berth-${version}-linux-${arch}.tar.gz`;
}

/**
 * The artifact of this checkout's version (root/package.json) for `arch` under root/release/, with the SHA-256 its
 * `.sha256` file records (`sha256sum` format). Throws when the tarball or its checksum is missing or the checksum
 * file names another file: run `npm run release` first.
 */
export function releaseArtifact(root: string = REPO_ROOT, arch: string = process.arch): ReleaseArtifact {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  const fileName = releaseFileName(version, arch);
  const file = path.join(root, "release", fileName);
  const checksumFile = `${file}.sha256`;
  if (!existsSync(file) || !existsSync(checksumFile)) {
    throw new Error(`the release artifact ${path.relative(root, file)} (and its .sha256) is missing: run npm run release first`);
  }
  const match = /^([0-9a-f]{64}) {2}(\S+)\n?$/.exec(readFileSync(checksumFile, "utf8"));
  if (!match || match[2] !== fileName) {
    throw new Error(`${path.relative(root, checksumFile)} is not "<sha256>  ${fileName}": run npm run release again`);
  }
  return { version, arch, fileName, path: file, sha256: match[1] };
}
