/**
 * The third-party binaries the hosts download (MinIO and its client `mc`): pinned by URL and SHA-256, checked with
 * `sha256sum -c` before they are installed. The defaults are the vendor's last linux-amd64 releases whose checksums
 * several independent public pins agree on; `berth:minioUrl` + `berth:minioSha256` (and `berth:mcUrl` +
 * `berth:mcSha256`) choose others, e.g. a mirror of the same file or an arm64 build.
 */
export interface PinnedDownload {
  url: string;
  /** Lowercase hex SHA-256 of the file at `url`. */
  sha256: string;
}

export const MINIO_RELEASE = "RELEASE.2025-09-07T16-13-09Z";
export const MC_RELEASE = "RELEASE.2025-08-13T08-35-41Z";

export const DEFAULT_MINIO: PinnedDownload = {
  url: `https://dl.min.io/server/minio/release/linux-amd64/archive/minio.${MINIO_RELEASE}`,
  sha256: "7c5bd8512c6e966455b1d198209358b2d191c77a83ab377c4073281065fb855f",
};

export const DEFAULT_MC: PinnedDownload = {
  url: `https://dl.min.io/client/mc/release/linux-amd64/archive/mc.${MC_RELEASE}`,
  sha256: "01f866e9c5f9b87c2b09116fa5d7c06695b106242d829a8bb32990c00312e891",
};

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * `berth:<name>Url` and `berth:<name>Sha256` over the default: a URL alone is refused (the checksum pins the file, not
 * the address), and so is a checksum that is not 64 lowercase hex digits.
 */
export function pinnedDownload(name: string, url: string | undefined, sha256: string | undefined, fallback: PinnedDownload): PinnedDownload {
  if (url !== undefined && sha256 === undefined) throw new Error(`berth:${name}Url needs berth:${name}Sha256, the SHA-256 of that file`);
  const pinned = { url: url ?? fallback.url, sha256: sha256 ?? fallback.sha256 };
  if (!SHA256.test(pinned.sha256)) throw new Error(`berth:${name}Sha256 must be 64 lowercase hex digits, got "${pinned.sha256}"`);
  if (!/^https:\/\//.test(pinned.url)) throw new Error(`berth:${name}Url must be an https:// URL, got "${pinned.url}"`);
  return pinned;
}
