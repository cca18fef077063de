/**
 * Storing a manifest costs the same number of statements whatever it refers to: 5 000 distinct layers or one layer
 * listed 27 000 times (security finding 7; one INSERT per reference held the database for seconds).
 */
import { createHash } from "node:crypto";
import { migrate } from "../../registry/db/migrate";
import { openTestPglite } from "../support/database";
import type { Queryable, Sql } from "../../registry/db/sql";
import { parseManifest } from "../../registry/distribution/manifest";
import { DistributionMetadata } from "../../registry/distribution/metadata";

const sha256 = (data: string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const OCI = "application/vnd.oci.image.manifest.v1+json";

/** `sql`, counting every statement sent through it, inside transactions too. */
function counting(sql: Sql): { sql: Sql; statements: () => number } {
  let statements = 0;
  const count = (db: Queryable): Queryable["query"] => (text, params) => {
    statements++;
    return db.query(text, params);
  };
  return {
    sql: {
      kind: sql.kind,
      query: count(sql),
      transaction: (fn) => sql.transaction((tx) => fn({ query: count(tx) })),
      close: () => sql.close(),
    },
    statements: () => statements,
  };
}

let sql: Sql;
let repositoryId: number;
const layers = Array.from({ length: 5000 }, (_, i) => sha256(`layer ${i}`));

beforeAll(async () => {
  sql = await openTestPglite();
  await migrate(sql);
  const [project] = await sql.query<{ id: number }>("INSERT INTO projects (name, metadata) VALUES ('statements', '{}') RETURNING id");
  [{ id: repositoryId }] = await sql.query<{ id: number }>("INSERT INTO repositories (project_id, name) VALUES ($1, 'statements/app') RETURNING id", [project.id]);
  await sql.query("INSERT INTO blobs (digest, size) SELECT d, 7 FROM unnest($1::text[]) AS d", [layers]);
  await sql.query("INSERT INTO repository_blobs (repository_id, digest) SELECT $1, d FROM unnest($2::text[]) AS d", [repositoryId, layers]);
}, 60_000);
afterAll(() => sql?.close());

/** How many statements checking and storing `layerDigests` as one manifest takes. */
async function statementsToStore(tag: string, layerDigests: string[]): Promise<number> {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: layers[0], size: 7 },
    layers: layerDigests.map((digest) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: 7 })),
  };
  const content = Buffer.from(JSON.stringify(manifest));
  const parsed = parseManifest(content, OCI);
  const counted = counting(sql);
  const metadata = new DistributionMetadata(counted.sql);
  expect(await metadata.missingReferences(repositoryId, parsed.references)).toEqual([]);
  await metadata.putManifest(
    repositoryId,
    { digest: sha256(content.toString()), mediaType: OCI, content, artifactType: null, subjectDigest: null, annotations: null, references: parsed.references },
    tag,
  );
  return counted.statements();
}

it("takes as many statements for 5 000 distinct references, or one listed 27 000 times, as for two", async () => {
  const two = await statementsToStore("two", [layers[1]]);
  const wide = await statementsToStore("wide", layers.slice(1));
  const repeated = await statementsToStore("repeated", Array.from({ length: 27_000 }, () => layers[2]));
  expect(two).toBeLessThanOrEqual(10);
  expect(wide).toBe(two);
  expect(repeated).toBe(two);
  const [{ count }] = await sql.query<{ count: number }>("SELECT count(*)::int AS count FROM manifest_references WHERE repository_id = $1", [repositoryId]);
  expect(count).toBe(2 + 5000 + 2);
}, 60_000);
