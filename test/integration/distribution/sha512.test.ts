import { createHash } from "node:crypto";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";

let berth: TestBerth;
beforeAll(async () => {
  berth = await startBerth();
});
afterAll(() => berth.close());

const sha512 = (data: Buffer) => `sha512:${createHash("sha512").update(data).digest("hex")}`;
const v2 = (path: string, init: RequestInit = {}) =>
  fetch(`${berth.url}/v2/library/sha512${path}`, { ...init, headers: { Authorization: ADMIN_AUTH, ...init.headers } });

describe("sha512 digests", () => {
  const blob = Buffer.from("content addressed by sha512\n");

  it("accepts a monolithic upload named by its sha512 digest and serves it back", async () => {
    const digest = sha512(blob);
    const put = await v2(`/blobs/uploads/?digest=${digest}`, { method: "POST", body: blob });
    expect(put.status).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    const get = await v2(`/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(blob);
  });

  it("verifies a chunked upload against a sha512 digest", async () => {
    const data = Buffer.concat([blob, Buffer.from("second chunk")]);
    const start = await v2("/blobs/uploads/", { method: "POST" });
    const location = start.headers.get("location")!;
    const patch = await fetch(`${berth.url}${location}`, {
      method: "PATCH",
      headers: { Authorization: ADMIN_AUTH, "Content-Range": `0-${blob.length - 1}`, "Content-Type": "application/octet-stream" },
      body: blob,
    });
    expect(patch.status).toBe(202);
    // A PUT without bytes whose digest does not match leaves the session as it was.
    const wrong = await fetch(`${berth.url}${location}?digest=${sha512(data)}`, { method: "PUT", headers: { Authorization: ADMIN_AUTH } });
    expect(wrong.status).toBe(400);
    const right = await fetch(`${berth.url}${location}?digest=${sha512(data)}`, {
      method: "PUT",
      headers: { Authorization: ADMIN_AUTH },
      body: data.subarray(blob.length),
    });
    expect(right.status).toBe(201);
    expect((await v2(`/blobs/${sha512(data)}`, { method: "HEAD" })).status).toBe(200);
  });

  it("stores a manifest pushed by its sha512 digest under that digest", async () => {
    const config = Buffer.from("{}");
    const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
    await v2(`/blobs/uploads/?digest=${configDigest}`, { method: "POST", body: config });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
        layers: [{ mediaType: "application/octet-stream", digest: sha512(blob), size: blob.length }],
      }),
    );
    const digest = sha512(manifest);
    const put = await v2(`/manifests/${digest}`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    const get = await v2(`/manifests/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(manifest);
  });
});
