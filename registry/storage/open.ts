import path from "node:path";
import type { Config } from "../config";
import type { BlobStore } from "./blob-store";
import { FilesystemBlobStore } from "./filesystem";

/** The blob store cannot be used as configured (a missing bucket, wrong keys, an unreachable endpoint). */
export class BlobStoreUnavailableError extends Error {}

/** The configured blob store. The AWS SDK (~25 MB once loaded) is loaded only when the store is S3. */
export async function openBlobStore(config: Pick<Config, "storage" | "dataDir">): Promise<BlobStore> {
  if (config.storage.kind === "s3") {
    const { S3BlobStore } = await import("./s3");
    return new S3BlobStore(config.storage);
  }
  return new FilesystemBlobStore(path.join(config.dataDir, "blobs"));
}

/** Checks at start that the store answers, so a wrong setting stops the server with its reason, not a first push. */
export async function checkBlobStore(store: BlobStore, config: Pick<Config, "storage">): Promise<void> {
  try {
    await store.ping();
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message ?? name;
    if (config.storage.kind === "s3") {
      const { endpoint, bucket } = config.storage;
      const hint =
        name === "NotFound" || name === "NoSuchBucket"
          ? `bucket "${bucket}" does not exist at ${endpoint}: create it, or set BERTH_S3_BUCKET`
          : name === "Forbidden" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || name === "AccessDenied"
            ? `${endpoint} refused the credentials for bucket "${bucket}": check BERTH_S3_ACCESS_KEY and BERTH_S3_SECRET_KEY`
            : `${endpoint} cannot be used for bucket "${bucket}" (${name || "error"}: ${reason}): check BERTH_S3_ENDPOINT`;
      throw new BlobStoreUnavailableError(hint);
    }
    throw new BlobStoreUnavailableError(`the blob store under BERTH_DATA_DIR cannot be used: ${reason}`);
  }
}
