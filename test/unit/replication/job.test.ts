import { Readable } from "node:stream";
import { planEvent } from "../../../registry/replication/job";
import { parseReplicationPolicy } from "../../../registry/replication/policy";
import { throttled } from "../../../registry/replication/throttle";

const policy = (extra: Record<string, unknown>) =>
  parseReplicationPolicy({ name: "p", dest_registry: { id: 1 }, trigger: { type: "event_based" }, filters: [{ type: "name", value: "team/**" }], ...extra });

describe("planEvent", () => {
  const push = { kind: "push" as const, repository: "team/app", tag: "v1", digest: "sha256:" + "a".repeat(64) };

  it("copies a pushed tag the filters select, to the rewritten repository", () => {
    expect(planEvent(policy({ dest_namespace: "dr", dest_namespace_replace_count: 1 }), push)).toEqual([
      { operation: "copy", source: "team/app", destination: "dr/app", reference: "v1" },
    ]);
  });

  it("copies an untagged push by digest", () => {
    expect(planEvent(policy({}), { ...push, tag: null })).toEqual([{ operation: "copy", source: "team/app", destination: "team/app", reference: push.digest }]);
  });

  it("ignores what the filters leave out", () => {
    expect(planEvent(policy({}), { ...push, repository: "other/app" })).toEqual([]);
    expect(planEvent(policy({ filters: [{ type: "tag", value: "v*", decoration: "excludes" }] }), push)).toEqual([]);
  });

  it("replicates a deletion only when the policy says so", () => {
    const deletion = { ...push, kind: "delete" as const, tag: null };
    expect(planEvent(policy({}), deletion)).toEqual([]);
    expect(planEvent(policy({ deletion: true }), deletion)).toEqual([{ operation: "deletion", source: "team/app", destination: "team/app", reference: push.digest }]);
  });

  it("skips a repository the namespace rewrite cannot place", () => {
    expect(planEvent(policy({ dest_namespace: "dr", dest_namespace_replace_count: 3 }), push)).toEqual([]);
  });
});

describe("throttled", () => {
  const collect = async (stream: Readable) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it("passes every byte through unchanged and in order", async () => {
    const data = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i % 251));
    expect(await collect(throttled(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), 100_000))).toEqual(data);
  });

  it("returns the source itself when unlimited", () => {
    const source = Readable.from([Buffer.from("x")]);
    expect(throttled(source, 0)).toBe(source);
  });

  it("ends the limited stream with the source's error", async () => {
    const source = new Readable({ read() {} });
    const limited = throttled(source, 1);
    source.destroy(new Error("upstream reset"));
    await expect(collect(limited)).rejects.toThrow("upstream reset");
  });
});
