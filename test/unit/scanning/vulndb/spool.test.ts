import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { spool, TooLargeError } from "../../../../registry/scanning/vulndb/spool";

describe("spool", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vulndb-spool-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes a stream to a file of its own and removes it on request", async () => {
    const spooled = await spool(dir, Readable.from([Buffer.from("abc"), Buffer.from("def")]), 6, "the body");
    expect(spooled.bytes).toBe(6);
    expect(await readFile(spooled.file, "utf8")).toBe("abcdef");
    await spooled.remove();
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a stream over the cap and leaves nothing behind", async () => {
    await expect(spool(dir, Readable.from([Buffer.alloc(4), Buffer.alloc(4)]), 6, "the body (X)")).rejects.toThrow(new TooLargeError(6, "the body (X)"));
    expect(await readdir(dir)).toEqual([]);
  });
});
