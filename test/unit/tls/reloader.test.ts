/** The reloader's decisions, one poll at a time (check() is what each tick runs), on real files from openssl. */
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readCertificatePair, type CertificatePair } from "../../../registry/tls/certificate-pair";
import { CertificateReloader } from "../../../registry/tls/reloader";
import { createTestPki, type IssuedCertificate, type TestPki } from "../../support/certificates";
import { describeWithTool } from "../../support/tools";

describeWithTool("openssl", "CertificateReloader", () => {
  let pki: TestPki;
  let dir: string;
  let files: { certFile: string; keyFile: string };
  let first: IssuedCertificate;
  let second: IssuedCertificate;
  let applied: CertificatePair[];
  let warnings: string[];
  let reloader: CertificateReloader;

  const write = async (pair: { chain: Buffer; key: Buffer }) => {
    await writeFile(files.certFile, pair.chain);
    await writeFile(files.keyFile, pair.key);
  };

  beforeAll(async () => {
    pki = await createTestPki();
    [first, second] = [await pki.issue(["localhost"]), await pki.issue(["localhost"])];
  });
  afterAll(() => pki?.remove());

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-reloader-"));
    files = { certFile: path.join(dir, "tls.crt"), keyFile: path.join(dir, "tls.key") };
    await write(first);
    applied = [];
    warnings = [];
    reloader = new CertificateReloader({
      files,
      served: await readCertificatePair(files),
      intervalMs: 60_000,
      apply: (pair) => applied.push(pair),
      log: { info: () => undefined, warn: (_details, message) => warnings.push(message) },
    });
  });
  afterEach(async () => {
    await reloader.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("applies nothing while the files hold the served pair, even when they are rewritten with the same bytes", async () => {
    await reloader.check();
    await write(first);
    await reloader.check();
    expect(applied).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("applies a renewed pair once", async () => {
    await write(second);
    await reloader.check();
    await reloader.check();
    expect(applied.map((pair) => pair.leaf.fingerprint256)).toEqual([second.fingerprint256]);
  });

  it("keeps the served pair while the files do not match, warns once for that state, and applies them once they do", async () => {
    await writeFile(files.certFile, second.chain);
    await reloader.check();
    await reloader.check();
    expect(applied).toEqual([]);
    expect(warnings).toEqual(["renewed TLS certificate files are not a valid pair (yet); still serving the previous certificate"]);
    await writeFile(files.keyFile, second.key);
    await reloader.check();
    expect(applied.map((pair) => pair.leaf.fingerprint256)).toEqual([second.fingerprint256]);
  });

  it("keeps the served pair while a file is missing or cut short", async () => {
    await unlink(files.keyFile);
    await reloader.check();
    await writeFile(files.keyFile, second.key);
    await writeFile(files.certFile, second.chain.subarray(0, 200));
    await reloader.check();
    expect(applied).toEqual([]);
    expect(warnings).toHaveLength(2);
  });
});
