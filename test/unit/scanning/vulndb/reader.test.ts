import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { candidatesFromJson, candidatesFromPath, VulnDbInputError, type Candidate } from "../../../../registry/scanning/vulndb/reader";
import { osvRecord, osvZip } from "../../../support/osv-records";
import { buildZip } from "../../../support/zip-writer";

const LIMITS = { maxJsonBytes: 64 * 1024 };

async function collect(iterable: AsyncIterable<Candidate>): Promise<Candidate[]> {
  const all: Candidate[] = [];
  for await (const candidate of iterable) all.push(candidate);
  return all;
}

const ids = (candidates: Candidate[]) => candidates.map((c) => ("value" in c ? (c.value as { id: string }).id : `error:${c.where}`));

describe("OSV input readers", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vulndb-reader-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads a record or an array of records from JSON, and says where a document is not JSON", () => {
    expect(ids([...candidatesFromJson(JSON.stringify(osvRecord("A", "npm", "a", "1.0.0")), "a.json")])).toEqual(["A"]);
    expect(ids([...candidatesFromJson(JSON.stringify([osvRecord("A", "npm", "a", "1.0.0"), osvRecord("B", "npm", "b", "1.0.0")]), "x")])).toEqual(["A", "B"]);
    const [bad] = [...candidatesFromJson("{nope", "bad.json")];
    expect(bad).toEqual({ where: "bad.json", error: expect.stringContaining("not valid JSON") });
  });

  it("reads every JSON entry of a zip, skipping other entries, and counts an unreadable or oversized entry against itself", async () => {
    const zip = buildZip([
      { name: "A.json", data: JSON.stringify(osvRecord("A", "Debian:12", "a", "1.0-1")), deflate: true },
      { name: "README.txt", data: "not a record" },
      { name: "broken.json", data: "{" },
      { name: "big.json", data: JSON.stringify({ id: "BIG", pad: "x".repeat(70 * 1024) }) },
      { name: "B.json", data: JSON.stringify(osvRecord("B", "Debian:12", "b", "1.0-1")) },
    ]);
    await writeFile(path.join(dir, "all.zip"), zip);
    expect(ids(await collect(candidatesFromPath(path.join(dir, "all.zip"), LIMITS)))).toEqual(["A", "error:broken.json", "error:big.json", "B"]);
  });

  it("reads entries that span the reader's 1 MiB windows, stored or deflated", async () => {
    const big = (id: string) => ({ ...osvRecord(id, "npm", "a", "1.0.0"), details: Array.from({ length: 30_000 }, (_, i) => `line ${i} of ${id}`).join("\n") });
    const zip = buildZip([
      { name: "A.json", data: JSON.stringify(big("A")) },
      { name: "B.json", data: JSON.stringify(big("B")), deflate: true },
      { name: "C.json", data: JSON.stringify(big("C")) },
    ]);
    expect(zip.length).toBeGreaterThan(1024 * 1024);
    await writeFile(path.join(dir, "all.zip"), zip);
    const read = await collect(candidatesFromPath(path.join(dir, "all.zip"), { maxJsonBytes: 4 * 1024 * 1024 }));
    expect(read.map((c) => ("value" in c ? (c.value as { details: string }).details : c.error))).toEqual([big("A").details, big("B").details, big("C").details]);
  });

  it("counts an entry whose size differs from the zip's directory against that entry", async () => {
    const zip = buildZip([
      { name: "lying.json", data: JSON.stringify(osvRecord("L", "npm", "a", "1.0.0")), deflate: true, declaredSize: 10 },
      { name: "B.json", data: JSON.stringify(osvRecord("B", "npm", "b", "1.0.0")) },
    ]);
    await writeFile(path.join(dir, "all.zip"), zip);
    const read = await collect(candidatesFromPath(path.join(dir, "all.zip"), LIMITS));
    expect(read[0]).toEqual({ where: "lying.json", error: expect.stringMatching(/^unreadable entry: it (holds \d+ bytes where the zip's directory says 10|inflates to more than)/) });
    expect(ids(read.slice(1))).toEqual(["B"]);
  });

  it("refuses a file that is not a zip as a whole", async () => {
    await writeFile(path.join(dir, "all.zip"), "this is not a zip");
    await expect(collect(candidatesFromPath(path.join(dir, "all.zip"), LIMITS))).rejects.toThrow(VulnDbInputError);
    await writeFile(path.join(dir, "x.json"), "{");
    await expect(collect(candidatesFromPath(path.join(dir, "x.json"), LIMITS))).rejects.toThrow(/x.json is not valid JSON/);
  });

  it("walks a directory tree in name order: JSON files and osv-scanner's <ecosystem>/all.zip, a bad file counted on its own", async () => {
    await mkdir(path.join(dir, "Alpine"), { recursive: true });
    await mkdir(path.join(dir, "b"), { recursive: true });
    await writeFile(path.join(dir, "Alpine", "all.zip"), osvZip([osvRecord("ALPINE-1", "Alpine:v3.20", "musl", "1.2.5-r1")]));
    await writeFile(path.join(dir, "b", "C.json"), JSON.stringify(osvRecord("C", "npm", "c", "1.0.0")));
    await writeFile(path.join(dir, "a.json"), JSON.stringify([osvRecord("A", "npm", "a", "1.0.0")]));
    await writeFile(path.join(dir, "bad.json"), "[");
    await writeFile(path.join(dir, "notes.md"), "ignored");
    expect(ids(await collect(candidatesFromPath(dir, LIMITS)))).toEqual(["ALPINE-1", "A", "C", "error:bad.json"]);
  });
});
