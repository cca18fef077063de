import { PassThrough, Readable } from "node:stream";
import { setImmediate as tick } from "node:timers/promises";
import { chunksOf } from "../../registry/storage/chunks";

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe("chunksOf", () => {
  it("hands out each chunk as the source made it, even when many waited (no joined copy)", async () => {
    const source = new PassThrough({ highWaterMark: 1024 * 1024 });
    const written = [bytes(1000, 1), bytes(2000, 2), bytes(3000, 3), bytes(10, 4)];
    const seen: Buffer[] = [];
    const iterator = chunksOf(source);
    const first = iterator.next();
    source.write(written[0]);
    seen.push((await first).value as Buffer);
    // The consumer is busy while three more arrive: a paused stream's read() would join them into one new buffer.
    for (const chunk of written.slice(1)) source.write(chunk);
    source.end();
    await tick();
    for await (const chunk of { [Symbol.asyncIterator]: () => iterator }) seen.push(chunk);
    expect(seen.map((chunk) => chunk.length)).toEqual([1000, 2000, 3000, 10]);
    // The very buffers that were written: not copies.
    seen.forEach((chunk, i) => expect(chunk.buffer).toBe(written[i].buffer));
  });

  it("pauses the source while the consumer falls behind and resumes it once the queue drains", async () => {
    const source = new PassThrough({ highWaterMark: 64 });
    const iterator = chunksOf(source);
    const first = iterator.next();
    let accepted = 0;
    for (let i = 0; i < 100; i += 1) if (source.write(bytes(64, i))) accepted += 1;
    await first;
    await tick();
    expect(source.isPaused()).toBe(true);
    // PassThrough's own buffer fills up too: the writer is told to wait.
    expect(accepted).toBeLessThan(100);
    source.end();
    let count = 1;
    for await (const _ of { [Symbol.asyncIterator]: () => iterator }) count += 1;
    expect(count).toBe(100);
  });

  it("throws the source's error and stops there", async () => {
    const source = new PassThrough();
    const seen: number[] = [];
    const consume = (async () => {
      for await (const chunk of chunksOf(source)) seen.push(chunk.length);
    })();
    source.write(bytes(5, 0));
    await tick();
    source.destroy(new Error("client went away"));
    await expect(consume).rejects.toThrow("client went away");
    expect(seen).toEqual([5]);
  });

  it("treats a source closed before its end as an error", async () => {
    const source = new PassThrough();
    const consume = (async () => {
      for await (const _ of chunksOf(source));
    })();
    source.write(bytes(5, 0));
    await tick();
    source.destroy();
    await expect(consume).rejects.toThrow(/premature close/i);
  });

  it("destroys the source when the consumer leaves early, as for-await does", async () => {
    const source = Readable.from([bytes(3, 1), bytes(3, 2), bytes(3, 3)], { objectMode: false });
    for await (const _ of chunksOf(source)) break;
    expect(source.destroyed).toBe(true);
  });

  it("turns string and Uint8Array chunks into Buffers and refuses objects", async () => {
    const mixed = Readable.from(["ab", new Uint8Array([1, 2, 3])], { objectMode: true });
    const seen: Buffer[] = [];
    for await (const chunk of chunksOf(mixed)) seen.push(chunk);
    expect(seen.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
    expect(Buffer.concat(seen)).toEqual(Buffer.from([0x61, 0x62, 1, 2, 3]));
    const objects = Readable.from([{ not: "bytes" }]);
    await expect(
      (async () => {
        for await (const _ of chunksOf(objects));
      })(),
    ).rejects.toThrow(/expected bytes/);
  });
});
