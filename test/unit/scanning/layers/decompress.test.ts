import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { compressionOf, createZstdDecompress, decompressLayer, LayerTooLargeError } from "../../../../registry/scanning/layers/decompress";
import { describeWithTool } from "../../../support/tools";
import { tarBytes } from "./layer-tar";

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The blob one byte at a time for its first bytes, so the magic straddles chunks. */
function trickle(bytes: Buffer): Readable {
  return Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2, 3), bytes.subarray(3)]);
}

describe("layer decompression", () => {
  let tar: Buffer;
  beforeAll(async () => {
    tar = await tarBytes([{ name: "etc/hello", content: "hello\n".repeat(10_000) }]);
  });

  test("the magic bytes decide, not the media type", () => {
    expect(compressionOf(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(compressionOf(Buffer.from("etc/"))).toBe("none");
    expect(compressionOf(Buffer.alloc(0))).toBe("none");
  });

  test("gzip, with the magic split across chunks", async () => {
    const { compression, tar: out } = await decompressLayer(trickle(gzipSync(tar)));
    expect(compression).toBe("gzip");
    expect((await collect(out)).equals(tar)).toBe(true);
  });

  test("multi-member gzip (concatenated streams) reads as one", async () => {
    const half = tar.length / 2;
    const blob = Buffer.concat([gzipSync(tar.subarray(0, half)), gzipSync(tar.subarray(half))]);
    expect((await collect((await decompressLayer(Readable.from([blob]))).tar)).equals(tar)).toBe(true);
  });

  test("plain tar passes through", async () => {
    const { compression, tar: out } = await decompressLayer(trickle(tar));
    expect(compression).toBe("none");
    expect((await collect(out)).equals(tar)).toBe(true);
  });

  test("an empty blob is an empty stream", async () => {
    const { tar: out } = await decompressLayer(Readable.from([]));
    expect((await collect(out)).length).toBe(0);
  });

  test("more than the cap after decompression fails with a clear error", async () => {
    const { tar: out } = await decompressLayer(Readable.from([gzipSync(tar)]), 4096);
    await expect(collect(out)).rejects.toThrow(LayerTooLargeError);
    await expect(collect((await decompressLayer(Readable.from([tar]), 4096)).tar)).rejects.toThrow(/more than 4096 bytes/);
  });

  test("a truncated gzip stream fails", async () => {
    const gz = gzipSync(tar);
    await expect(collect((await decompressLayer(Readable.from([gz.subarray(0, gz.length - 100)]))).tar)).rejects.toThrow(/unexpected end of file/);
  });
});

describeWithTool("zstd", "zstd layers (fzstd)", () => {
  test("a layer compressed by the zstd command, in small chunks", async () => {
    const tar = await tarBytes([{ name: "etc/hello", content: "hello zstd\n".repeat(50_000) }]);
    const zst = execFileSync("zstd", ["-q", "-c", "-3"], { input: tar });
    const chunks: Buffer[] = [];
    for (let at = 0; at < zst.length; at += 1000) chunks.push(zst.subarray(at, at + 1000));
    const { compression, tar: out } = await decompressLayer(Readable.from(chunks));
    expect(compression).toBe("zstd");
    expect((await collect(out)).equals(tar)).toBe(true);
  });

  test("the fzstd Transform itself (what Node 20 uses; Node 22.15+ uses zlib's), over two concatenated frames", async () => {
    const first = await tarBytes([{ name: "a", content: "first frame\n".repeat(20_000) }]);
    const second = Buffer.from("second frame\n".repeat(20_000));
    const zst = Buffer.concat([execFileSync("zstd", ["-q", "-c"], { input: first }), execFileSync("zstd", ["-q", "-c"], { input: second })]);
    const out = Readable.from([zst.subarray(0, 7), zst.subarray(7)]).pipe(createZstdDecompress());
    expect((await collect(out)).equals(Buffer.concat([first, second]))).toBe(true);
  });

  test("a damaged zstd stream fails", async () => {
    const tar = await tarBytes([{ name: "etc/hello", content: "hello zstd\n".repeat(50_000) }]);
    const zst = execFileSync("zstd", ["-q", "-c"], { input: tar });
    await expect(collect((await decompressLayer(Readable.from([zst.subarray(0, zst.length - 10)]))).tar)).rejects.toThrow();
  });
});
