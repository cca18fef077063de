import { S3BlobStore } from "../../registry/storage/s3";
import { startS3 } from "../support/s3";
import { describeBlobStore } from "./blob-store-suite";

describeBlobStore("S3BlobStore on s3rver", async () => {
  const s3 = await startS3();
  return { store: new S3BlobStore(s3.settings), cleanup: () => s3.close() };
});
