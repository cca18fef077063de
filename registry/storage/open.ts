import path from "node:path";
import type { Config } from "../config";
import type { BlobStore } from "./blob-store";
import { FilesystemBlobStore } from "./filesystem";

/** The configured blob store. */
export function openBlobStore(config: Pick<Config, "storage" | "dataDir">): BlobStore {
  if (config.storage.kind === "s3") {
    // Refuse loudly rather than fall back to disk: silently writing blobs locally would lose them on a second node.
    throw new Error("BERTH_STORAGE=s3 is not available in this version; use BERTH_STORAGE=fs");
  }
  return new FilesystemBlobStore(path.join(config.dataDir, "blobs"));
}
