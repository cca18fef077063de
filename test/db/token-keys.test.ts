import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadSigningKey } from "../../registry/auth/token-keys";
import { TokenService } from "../../registry/auth/token-service";
import { migrate } from "../../registry/db/migrate";
import { PgSql } from "../../registry/db/pg";
import { PgliteSql } from "../../registry/db/pglite";
import type { Sql } from "../../registry/db/sql";
import { createTestDatabase, testPostgresUrl } from "../support/database";

/** Two handles on one database, as two nodes would have (PGlite: one handle stands for both). */
interface Nodes {
  a: Sql;
  b: Sql;
  cleanup(): Promise<void>;
}

const setups: [string, () => Promise<Nodes>][] = [
  [
    "PGlite",
    async () => {
      const sql = await PgliteSql.open();
      return { a: sql, b: sql, cleanup: () => sql.close() };
    },
  ],
];
const serverUrl = testPostgresUrl();
if (serverUrl) {
  setups.push([
    "PostgreSQL",
    async () => {
      const database = await createTestDatabase(serverUrl);
      const a = new PgSql(database.url);
      const b = new PgSql(database.url);
      return {
        a,
        b,
        cleanup: async () => {
          await Promise.all([a.close(), b.close()]);
          await database.drop();
        },
      };
    },
  ]);
}

describe.each(setups)("token signing key (%s)", (_name, open) => {
  let nodes: Nodes;
  beforeAll(async () => {
    nodes = await open();
    await migrate(nodes.a);
  });
  afterAll(() => nodes.cleanup());

  it("is generated once and shared: nodes starting together sign and verify with the same key", async () => {
    const [first, second] = await Promise.all([loadSigningKey(nodes.a), loadSigningKey(nodes.b)]);
    expect(second.kid).toBe(first.kid);
    const later = await loadSigningKey(nodes.b);
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
      const fromFile = await loadSigningKey(nodes.a, file);
      expect(fromFile.kid).not.toBe((await loadSigningKey(nodes.a)).kid);
      expect((await loadSigningKey(nodes.b, file)).kid).toBe(fromFile.kid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
