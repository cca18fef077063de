import { prepareEnvironment } from "../support/berth";
import { runCli } from "../support/cli";
import { freePort } from "../support/reference-registry";
import { startS3, type TestS3 } from "../support/s3";

const doctor = (env: Record<string, string>) => runCli("berth", ["doctor"], env);

describe("berth doctor", () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.close();
  });

  it("passes a working setup and checks that the blob store takes writes", async () => {
    const environment = await prepareEnvironment({
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: s3.settings.endpoint,
      BERTH_S3_BUCKET: s3.settings.bucket,
      BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
      BERTH_S3_SECRET_KEY: s3.settings.secretKey,
    });
    try {
      const result = await doctor(environment.env);
      // A fresh database has not been migrated yet: doctor says so and how to fix it.
      expect(result.stdout).toMatch(/^ok {3}database: /m);
      expect(result.stdout).toMatch(/^FAIL migrations: \d+ not applied: 001_init, /m);
      expect(result.stdout).toContain(`ok   blob store: bucket "${s3.settings.bucket}" at ${s3.settings.endpoint} is readable and writable`);
      expect(result.stdout).toMatch(/^ok {3}clock: within \d+ ms of the database's clock$/m);
      expect(result.stdout).toContain(`ok   secret key: ${environment.env.BERTH_SECRET_KEY_FILE} (mode 0600) is not used by the database yet`);
      expect(result.code).toBe(1);
    } finally {
      await environment.cleanup();
    }
  });

  it("names what is wrong and how to fix it", async () => {
    const environment = await prepareEnvironment({
      BERTH_DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/none`,
      BERTH_STORAGE: "s3",
      BERTH_S3_ENDPOINT: s3.settings.endpoint,
      BERTH_S3_BUCKET: "missing-bucket",
      BERTH_S3_ACCESS_KEY: s3.settings.accessKey,
      BERTH_S3_SECRET_KEY: s3.settings.secretKey,
    });
    try {
      const result = await doctor(environment.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^FAIL database: .*\n {5}fix: check BERTH_DATABASE_URL, that PostgreSQL runs and accepts this user$/m);
      expect(result.stdout).toContain(`FAIL blob store: bucket "missing-bucket" does not exist at ${s3.settings.endpoint}: create it, or set BERTH_S3_BUCKET`);
    } finally {
      await environment.cleanup();
    }
  });
});
