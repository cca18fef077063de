import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "../../../registry/config";
import { loadSecretBox, newSecretKeyText } from "../../../registry/secrets/secret-key";

describe("the secret key file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "berth-secret-key-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("is generated in the data directory on the first start, 0600, 32 bytes in base64, and kept", async () => {
    const dataDir = path.join(dir, "data");
    const first = loadSecretBox({ dataDir });
    const file = path.join(dataDir, "secretkey");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, "utf8")).trim(), "base64")).toHaveLength(32);
    expect(loadSecretBox({ dataDir }).checkValue()).toBe(first.checkValue());
  });

  it("comes from BERTH_SECRET_KEY_FILE when set, which must exist (it is never generated there)", async () => {
    const file = path.join(dir, "key");
    expect(() => loadSecretBox({ dataDir: dir, secretKeyFile: file })).toThrow(/^BERTH_SECRET_KEY_FILE: cannot read/);
    await writeFile(file, newSecretKeyText(), { mode: 0o600 });
    const sealed = loadSecretBox({ dataDir: dir, secretKeyFile: file }).seal("x");
    expect(loadSecretBox({ dataDir: dir, secretKeyFile: file }).open(sealed)).toBe("x");
  });

  it("is refused when other users may read it", async () => {
    const file = path.join(dir, "key");
    await writeFile(file, newSecretKeyText(), { mode: 0o600 });
    await chmod(file, 0o644);
    expect(() => loadSecretBox({ dataDir: dir, secretKeyFile: file })).toThrow(ConfigError);
    expect(() => loadSecretBox({ dataDir: dir, secretKeyFile: file })).toThrow(/mode 0644\): chmod 600 it/);
  });

  it.each([
    ["too short", Buffer.alloc(16).toString("base64")],
    ["raw bytes, not base64", "\u0001\u0002 not base64 at all"],
    ["empty", ""],
  ])("is refused when it is not 32 bytes of base64 (%s)", async (_name, content) => {
    const file = path.join(dir, "key");
    await writeFile(file, content, { mode: 0o600 });
    expect(() => loadSecretBox({ dataDir: dir, secretKeyFile: file })).toThrow(/must hold 32 random bytes, base64-encoded/);
  });
});
