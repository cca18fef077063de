import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import type { S3Settings } from "../../registry/storage/s3";

export interface TestS3 {
  settings: S3Settings;
  close(): Promise<void>;
}

/** A real S3 server (s3rver) on 127.0.0.1 with one empty bucket, in its own temp dir. */
export async function startS3(bucket = "berth-test"): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), "berth-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, resetOnClose: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    settings: { endpoint: `http://127.0.0.1:${port}`, bucket, region: "us-east-1", accessKey: "S3RVER", secretKey: "S3RVER" },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
