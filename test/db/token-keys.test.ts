import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadSigningKey } from "../../registry/auth/token-keys";
import { TokenService } from "../../registry/auth/token-service";
import { migrate } from "../../registry/db/migrate";
import { SecretBox } from "../../registry/secrets/secret-box";
import { twoNodeSetups, type Nodes } from "../support/database";

const setups = twoNodeSetups();
const secrets = new SecretBox(randomBytes(32), "test key");

describe.each(setups)("token signing key (%s)", (_name, open) => {
  let nodes: Nodes;
  beforeAll(async () => {
    nodes = await open();
    await migrate(nodes.a);
  });
  afterAll(() => nodes.cleanup());

  it("is generated once and shared: nodes starting together sign and verify with the same key", async () => {
    const [first, second] = await Promise.all([loadSigningKey(nodes.a, secrets), loadSigningKey(nodes.b, secrets)]);
    expect(second.kid).toBe(first.kid);
    const later = await loadSigningKey(nodes.b, secrets);
    expect(later.kid).toBe(first.kid);
    const { token } = new TokenService(first).issue({ kind: "anonymous" }, []);
    expect(() => new TokenService(later).verify(token)).not.toThrow();
  });

  it("comes from BERTH_TOKEN_KEY_FILE when one is given", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "berth-key-"));
    try {
      const file = path.join(dir, "key.pem");
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await writeFile(file, privateKey.export({ type: "pkcs8", format: "pem" }));
      const fromFile = await loadSigningKey(nodes.a, secrets, file);
      expect(fromFile.kid).not.toBe((await loadSigningKey(nodes.a, secrets)).kid);
      expect((await loadSigningKey(nodes.b, secrets, file)).kid).toBe(fromFile.kid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
