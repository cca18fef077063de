import { readdir, rm, stat } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import type { S3Settings } from "../../registry/storage/s3";

export interface TestS3 {
  settings: S3Settings;
  /** Ids of the multipart uploads s3rver holds open (created, neither completed nor aborted). */
  openMultipartUploads(): Promise<string[]>;
  close(): Promise<void>;
}

/** Where s3rver 3.7's filesystem store keeps a bucket's unfinished multipart uploads, one directory each. */
const uploadsDirectory = (directory: string, bucket: string) => path.join(directory, bucket, "._S3rver_uploads");

/**
 * A real S3 server (s3rver) on 127.0.0.1 with one empty bucket, in its own temp dir.
 *
 * s3rver 3.7 answers AbortMultipartUpload (DELETE ?uploadId=) with 405; MinIO and AWS implement it. This adds it as
 * S3 documents it: the upload's parts are removed (204), and an unknown upload id is a 404 NoSuchUpload.
 */
export async function startS3(bucket = "berth-test"): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), "berth-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, resetOnClose: true, configureBuckets: [{ name: bucket }] });
  server.middleware.unshift(async (context, next) => {
    const uploadId = context.query.uploadId;
    if (context.method !== "DELETE" || typeof uploadId !== "string") return next();
    const uploadDir = path.join(uploadsDirectory(directory, context.path.split("/")[1] ?? ""), uploadId);
    const exists = /^[0-9a-f]{32}$/.test(uploadId) && (await stat(uploadDir).then(() => true, () => false));
    if (exists) {
      await rm(uploadDir, { recursive: true, force: true });
      context.status = 204;
      return;
    }
    context.status = 404;
    context.type = "application/xml";
    context.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
  });
  const { port } = await server.run();
  return {
    settings: { endpoint: `http://127.0.0.1:${port}`, bucket, region: "us-east-1", accessKey: "S3RVER", secretKey: "S3RVER" },
    openMultipartUploads: async () => (await readdir(uploadsDirectory(directory, bucket)).catch(() => [] as string[])).sort(),
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
