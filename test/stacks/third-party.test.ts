/** berth:minioUrl/minioSha256 and berth:mcUrl/mcSha256: a download is pinned by its checksum, never by its address. */
import { DEFAULT_MINIO, pinnedDownload } from "../../stacks/third-party";

describe("pinnedDownload", () => {
  const mirror = "https://mirror.example.com/minio.RELEASE.2025-09-07T16-13-09Z";

  it("keeps the default, or takes a URL together with its SHA-256", () => {
    expect(pinnedDownload("minio", undefined, undefined, DEFAULT_MINIO)).toEqual(DEFAULT_MINIO);
    expect(pinnedDownload("minio", mirror, DEFAULT_MINIO.sha256, DEFAULT_MINIO)).toEqual({ url: mirror, sha256: DEFAULT_MINIO.sha256 });
    expect(pinnedDownload("minio", undefined, "c".repeat(64), DEFAULT_MINIO)).toEqual({ url: DEFAULT_MINIO.url, sha256: "c".repeat(64) });
  });

  it("refuses a URL without its checksum, a checksum that is not 64 lowercase hex digits, and plain http", () => {
    expect(() => pinnedDownload("minio", mirror, undefined, DEFAULT_MINIO)).toThrow("berth:minioUrl needs berth:minioSha256, the SHA-256 of that file");
    expect(() => pinnedDownload("mc", undefined, "C".repeat(64), DEFAULT_MINIO)).toThrow('berth:mcSha256 must be 64 lowercase hex digits, got "CCCC');
    expect(() => pinnedDownload("mc", undefined, "c".repeat(63), DEFAULT_MINIO)).toThrow("berth:mcSha256 must be 64 lowercase hex digits");
    expect(() => pinnedDownload("minio", "http://mirror.example.com/minio", "c".repeat(64), DEFAULT_MINIO)).toThrow('berth:minioUrl must be an https:// URL, got "http://mirror.example.com/minio"');
  });
});
