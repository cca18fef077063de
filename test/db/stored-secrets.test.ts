import { randomBytes } from "node:crypto";
import { migrate } from "../../registry/db/migrate";
import { verifySecretKey } from "../../registry/secrets/key-check";
import { resealStoredSecrets } from "../../registry/secrets/reseal";
import { SecretBox, SecretKeyMismatchError } from "../../registry/secrets/secret-box";
import { twoNodeSetups, type Nodes } from "../support/database";

const setups = twoNodeSetups();

describe.each(setups)("secrets stored by an older version (%s)", (_name, open) => {
  let nodes: Nodes;
  const key = randomBytes(32);
  beforeAll(async () => {
    nodes = await open();
    await migrate(nodes.a);
  });
  afterAll(() => nodes.cleanup());

  it("are sealed once when two nodes with the same key start together, and still open to what they were", async () => {
    const { a } = nodes;
    await a.query("INSERT INTO settings (key, value) VALUES ('token_signing_key', 'PLAIN PEM')");
    await a.query("INSERT INTO registries (name, type, url, access_key, access_secret) VALUES ('r1', 'docker-registry', 'http://127.0.0.1:1', 'bot', 'Plain-Pass')");
    const [{ id: projectId }] = await a.query<{ id: number }>("INSERT INTO projects (name) VALUES ('old') RETURNING id");
    const target = { type: "http", address: "http://127.0.0.1:1/", auth_header: "Bearer plain", skip_cert_verify: false, payload_format: "Default", secret: "plain-sign" };
    const [{ id: policyId }] = await a.query<{ id: number }>(
      "INSERT INTO webhook_policies (project_id, name, event_types, targets, creator) VALUES ($1, 'p', '[\"PUSH_ARTIFACT\"]', $2, 'admin') RETURNING id",
      [projectId, JSON.stringify([target])],
    );
    for (let i = 0; i < 3; i++) await a.query("INSERT INTO webhook_deliveries (policy_id, event_type, target, payload) VALUES ($1, 'PUSH_ARTIFACT', $2, '{}')", [policyId, JSON.stringify(target)]);

    const [first, second] = [new SecretBox(key, "a"), new SecretBox(Buffer.from(key), "b")];
    await Promise.all([verifySecretKey(nodes.a, first), verifySecretKey(nodes.b, second)]);
    const counts = await Promise.all([resealStoredSecrets(nodes.a, first), resealStoredSecrets(nodes.b, second)]);
    // 1 key + 1 endpoint + 1 policy + 3 deliveries, each sealed by exactly one of the two.
    expect(counts[0] + counts[1]).toBe(6);
    expect(await resealStoredSecrets(nodes.a, first)).toBe(0);

    const [setting] = await a.query<{ value: string }>("SELECT value FROM settings WHERE key = 'token_signing_key'");
    expect(first.open(setting.value)).toBe("PLAIN PEM");
    const [endpoint] = await a.query<{ access_secret: string }>("SELECT access_secret FROM registries");
    expect(endpoint.access_secret).toMatch(/^enc:v1:/);
    expect(first.open(endpoint.access_secret)).toBe("Plain-Pass");
    const stored = [
      ...(await a.query<{ targets: typeof target[] }>("SELECT targets FROM webhook_policies")).map((row) => row.targets[0]),
      ...(await a.query<{ target: typeof target }>("SELECT target FROM webhook_deliveries")).map((row) => row.target),
    ];
    expect(stored).toHaveLength(4);
    for (const sealed of stored) {
      expect(sealed.auth_header).toMatch(/^enc:v1:/);
      expect({ ...sealed, auth_header: first.open(sealed.auth_header), secret: first.open(sealed.secret) }).toEqual(target);
    }
  });

  it("refuses a node whose key differs from the one the database was set up with", async () => {
    await verifySecretKey(nodes.a, new SecretBox(key, "first"));
    await expect(verifySecretKey(nodes.b, new SecretBox(randomBytes(32), "/other/secretkey"))).rejects.toThrow(SecretKeyMismatchError);
    await expect(verifySecretKey(nodes.b, new SecretBox(randomBytes(32), "/other/secretkey"))).rejects.toThrow(
      /^BERTH_SECRET_KEY_FILE: the database was set up with another secret key; the key in \/other\/secretkey is not the one/,
    );
    await expect(verifySecretKey(nodes.b, new SecretBox(key, "same"))).resolves.toBeUndefined();
  });
});
